"""The dry run (the command's --dry-run and the challenge's report in the admin)
says which runs would lose their artifacts and how many bytes that frees, and
changes nothing; the admin's report is its challenge's teacher's only."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client

from judging.models import Submission
from retention.models import CollectedRun, CollectionPass
from retention.services import artifacts_collect
from tests.factories import TeacherFactory
from tests.retention_runs import ended_run, in_store, stored
from tests.submissions import participants, published_challenge

pytestmark = pytest.mark.django_db

LOGS = b"the logs of a run nobody keeps"
MODEL = b"a model only that run refers to"


def expiring_challenge(**fields: Any) -> tuple[Any, Submission, list[str]]:
    challenge = published_challenge(keep_days=10, **fields)
    (ada,) = participants(challenge, 1)
    shared = stored(b"shared with the kept run")
    ended_run(ada, artifacts={"model": shared}, score=0.9)
    own = [stored(LOGS), stored(MODEL)]
    run = ended_run(ada, artifacts={"logs": own[0], "model": own[1], "same": shared})
    return challenge, run, [*own, shared]


def test_the_dry_run_reports_the_bytes_it_would_free_and_deletes_nothing() -> None:
    _, run, files = expiring_challenge()
    orphan = stored(b"no row refers to this")

    report = artifacts_collect(dry_run=True)

    (entry,) = report.challenges
    assert [r.submission_id for r in entry.runs] == [run.pk]
    assert entry.bytes == len(LOGS) + len(MODEL)  # the shared file stays: not counted
    assert orphan in report.unreferenced
    assert all(map(in_store, [*files, orphan]))
    run.refresh_from_db()
    assert set(run.artifacts) == {"logs", "model", "same"}
    assert not CollectedRun.objects.exists()
    assert not CollectionPass.objects.exists()


def test_the_command_prints_each_challenge_and_changes_nothing_with_dry_run() -> None:
    challenge, run, files = expiring_challenge()
    out, err = StringIO(), StringIO()

    call_command("collect_artifacts", "--dry-run", "--runs", stdout=out, stderr=err)

    text = out.getvalue()
    freed = len(LOGS) + len(MODEL)
    assert f"{challenge.slug}: would remove the artifacts of 1 run(s), 2 file(s)" in text
    assert f"({freed} bytes)" in text
    assert f"submission {run.pk} ended" in text
    assert "Dry run: nothing was changed." in text
    assert f"{challenge.slug}: 1 run(s) past the policy" in err.getvalue()  # progress
    assert all(map(in_store, files))
    run.refresh_from_db()
    assert run.artifacts

    call_command("collect_artifacts", stdout=(out := StringIO()), stderr=StringIO())
    assert f"{challenge.slug}: removed the artifacts of 1 run(s)" in out.getvalue()
    assert not in_store(files[0])
    assert in_store(files[2])


def test_the_admin_report_is_the_challenges_teachers_only(
    teacher: Any, teacher_client: Client
) -> None:
    challenge, run, files = expiring_challenge(owner=teacher)
    url = f"/admin/challenges/challenge/{challenge.pk}/retention/"
    other = Client()
    other.force_login(TeacherFactory())

    page = teacher_client.get(url)

    assert page.status_code == 200
    html = page.content.decode()
    summary = html.split('id="retention-summary"')[1].split("</p>")[0]
    assert "1 run(s) would lose their artifacts" in summary
    assert f"({len(LOGS) + len(MODEL)} bytes)" in summary
    assert f"#{run.pk}" in html
    assert other.get(url).status_code == 404
    assert all(map(in_store, files))
    assert not CollectedRun.objects.exists()
    change = teacher_client.get(f"/admin/challenges/challenge/{challenge.pk}/change/")
    assert 'id="retention-report"' in change.content.decode()
