"""After a collector pass a collected run says so, to its author on the page and in
the API (not an error); operators see each challenge's store usage on the
operations page and in /metrics; the periodic task is declared with an expiry
and runs one pass."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from foundation.periodic import declared_periodic_jobs
from retention.tasks import collect_artifacts
from tests.retention_runs import ended_run, stored
from tests.submissions import participants, published_challenge
from tests.test_api_challenges import token_client

pytestmark = pytest.mark.django_db


def collected_run() -> Any:
    challenge = published_challenge(keep_days=7)
    (ada,) = participants(challenge, 1)
    kept = ended_run(ada, artifacts={"logs": stored(b"kept run's logs")}, score=0.9)
    run = ended_run(ada, artifacts={"logs": stored(b"0123456789")}, score=0.1, days_ago=30)
    return challenge, kept, run


def test_the_author_reads_that_the_policy_removed_the_artifacts() -> None:
    _, kept, run = collected_run()

    assert collect_artifacts() == {
        "runs_collected": 1, "files_deleted": 1, "bytes_freed": 10, "files_left": 0
    }  # fmt: skip

    client = token_client(run.participant.user)
    body = client.get(f"/api/submissions/{run.pk}/").json()
    assert body["artifacts"] == {}
    assert "kept 7 days after it ended" in body["artifacts_removed"]["reason"]
    assert body["artifacts_removed"]["at"]
    assert "removed by the retention policy" in body["events"][-1]["message"]
    page = Client()
    page.force_login(run.participant.user)
    html = page.get(f"/submissions/{run.pk}/").content.decode()
    assert 'id="artifacts-removed"' in html
    assert client.get(f"/api/submissions/{kept.pk}/").json()["artifacts_removed"] is None


def test_operators_see_store_usage_per_challenge(admin_client: Client) -> None:
    challenge, _, _ = collected_run()
    collect_artifacts()

    metrics = set(admin_client.get("/metrics").content.decode().splitlines())
    html = admin_client.get("/admin/operations/").content.decode()

    usage = next(
        m for m in metrics if m.startswith(f'ppipe_store_bytes{{challenge="{challenge.slug}"}}')
    )
    assert float(usage.split()[-1]) > len(b"kept run's logs")  # the split's files and the kept logs
    assert "ppipe_store_collection_freed_bytes 10.0" in metrics
    table = html.split('id="store-usage"')[1].split("</table>")[0]
    assert challenge.slug in table
    assert "1 run(s) collected" in html


def test_the_collector_is_a_periodic_task_with_an_expiry() -> None:
    (job,) = [j for j in declared_periodic_jobs() if j.task == "retention.tasks.collect_artifacts"]

    assert job.queue == "control"
    assert 0 < job.expires_seconds <= job.every_seconds
