"""The collector removes the artifacts of runs past their challenge's retention
policy and deletes a stored file only when no row refers to it any more: a file
a kept run shares with an expired one stays, and so does one another teacher's
challenge refers to; kept runs (waiting, selected, promoted, best, reproduced)
are never collected; threshold rules let low-scoring runs and runs that missed
an SLA go sooner; a pass is bounded and repeatable; a file being stored again
while the collector deletes it survives."""

from __future__ import annotations

import os
import time

import pytest
from django.utils import timezone

from foundation.content_store import artifact_store
from judging.models import ConfigurationResult, Reproduction, Submission, SubmissionState
from retention.models import CollectedRun, CollectionPass
from retention.policy import expired_runs
from retention.services import artifacts_collect, runs_collect
from retention.sweep import ASIDE, file_delete, stored_files
from tests.factories import TeacherFactory
from tests.retention_runs import ended_run, in_store, stored
from tests.submissions import participants, published_challenge

pytestmark = pytest.mark.django_db


def test_a_file_shared_by_a_kept_and_an_expired_run_stays() -> None:
    (ada,) = participants(published_challenge(keep_days=30), 1)
    shared, own = stored(b"a pickled model both runs produced"), stored(b"expired run's logs")
    kept = ended_run(ada, artifacts={"model": shared, "logs": stored(b"kept logs")}, score=0.9)
    expired = ended_run(ada, artifacts={"model": shared, "logs": own}, score=0.5)

    report = artifacts_collect(dry_run=False)

    assert in_store(shared)
    assert not in_store(own)
    assert (report.files_deleted, report.bytes_freed) == (1, len(b"expired run's logs"))
    expired.refresh_from_db()
    assert expired.artifacts == {}
    collected = CollectedRun.objects.get(submission=expired)
    assert collected.artifacts == {"model": shared, "logs": own}
    assert "kept 30 days" in collected.reason
    assert "removed by the retention policy" in expired.events.last().message
    kept.refresh_from_db()
    assert set(kept.artifacts) == {"model", "logs"}
    assert all(map(in_store, kept.artifacts.values()))
    assert CollectionPass.objects.get().blobs_deleted == 1


def test_kept_runs_are_never_collected_whatever_their_age() -> None:
    challenge = published_challenge(keep_days=1)
    ada, bob, carol = participants(challenge, 3)
    ended_run(ada, artifacts={}, score=0.99)  # each student's best is another run
    ended_run(bob, artifacts={}, score=0.99)
    kept = {
        "selected": ended_run(ada, artifacts={"logs": stored(b"1")}, selected=True),
        "promoted": ended_run(ada, artifacts={"logs": stored(b"2")}, promoted=True),
        "running": ended_run(
            ada, artifacts={"logs": stored(b"3")}, state=SubmissionState.RUNNING, score=None
        ),
        "reproduced": ended_run(bob, artifacts={"logs": stored(b"4")}),
        "best of a student": ended_run(carol, artifacts={"logs": stored(b"5")}),
    }
    Reproduction.objects.create(
        submission=kept["reproduced"], requested_by="teacher", tolerance=1e-6
    )
    plain = ended_run(bob, artifacts={"logs": stored(b"6")})

    artifacts_collect(dry_run=False)

    for why, run in kept.items():
        run.refresh_from_db()
        assert run.artifacts, why
        assert in_store(run.artifacts["logs"]), why
    plain.refresh_from_db()
    assert plain.artifacts == {}  # the same age, not kept: collected


def test_another_teachers_challenge_keeps_a_file_both_refer_to() -> None:
    hasty = published_challenge(owner=TeacherFactory(), keep_days=1)
    careful = published_challenge(owner=TeacherFactory(), keep_days=1000)
    (ada,) = participants(hasty, 1)
    (bob,) = participants(careful, 1)
    shared = stored(b"the same model, submitted to both challenges")
    ended_run(ada, artifacts={}, score=0.9)
    ended_run(bob, artifacts={}, score=0.9)
    hasty_run = ended_run(ada, artifacts={"model": shared})
    careful_run = ended_run(bob, artifacts={"model": shared})

    artifacts_collect(dry_run=False)

    hasty_run.refresh_from_db()
    careful_run.refresh_from_db()
    assert hasty_run.artifacts == {}  # the hasty teacher's own run went
    assert careful_run.artifacts == {"model": shared}  # theirs cannot reach the other's
    assert in_store(shared)

    careful.retention_rules.keep_days = 1
    careful.retention_rules.save()
    artifacts_collect(dry_run=False)
    assert not in_store(shared)  # once neither refers to it


def test_threshold_rules_let_low_scores_and_missed_slas_go_sooner() -> None:
    challenge = published_challenge(
        keep_days=100, low_score_below=0.6, low_score_days=5, sla_missed_days=3
    )
    (ada,) = participants(challenge, 1)
    ended_run(ada, artifacts={}, score=0.9, days_ago=10)
    low = ended_run(ada, artifacts={"logs": stored(b"low")}, score=0.5, days_ago=10)
    failed = ended_run(
        ada, artifacts={"logs": stored(b"failed")}, score=None, days_ago=10, state="failed"
    )
    good = ended_run(ada, artifacts={"logs": stored(b"good")}, score=0.7, days_ago=10)
    slow = ended_run(ada, artifacts={"logs": stored(b"slow")}, score=0.8, days_ago=4)
    ConfigurationResult.objects.create(
        submission=slow, index=0, cv_mean=0.8, cv_std=0, fit_seconds=1, cpu_seconds=1,
        peak_memory_mb=1, latency_p50_ms=90, latency_p95_ms=120, batches=1, sla_met=False,
    )  # fmt: skip

    artifacts_collect(dry_run=False)

    reasons = dict(CollectedRun.objects.values_list("submission_id", "reason"))
    assert set(reasons) == {low.pk, failed.pk, slow.pk}
    assert "public score below 0.6" in reasons[low.pk]
    assert "no score (failed)" in reasons[failed.pk]
    assert "missed a latency SLA" in reasons[slow.pk]
    assert good.pk not in reasons


def test_a_pass_is_bounded_and_the_next_one_goes_on(settings: object) -> None:
    settings.PPIPE_RETENTION_RUNS_PER_PASS = 1  # type: ignore[attr-defined]
    (ada,) = participants(published_challenge(keep_days=1), 1)
    ended_run(ada, artifacts={}, score=0.9)
    older = ended_run(ada, artifacts={"logs": stored(b"a")}, days_ago=300)
    newer = ended_run(ada, artifacts={"logs": stored(b"b")}, days_ago=200)

    counts = [artifacts_collect(dry_run=False).runs_collected for _ in range(3)]

    assert counts == [1, 1, 0]
    assert list(CollectedRun.objects.order_by("collected_at", "submission_id").values_list(
        "submission_id", flat=True
    )) == [older.pk, newer.pk]  # fmt: skip


def test_unreferenced_files_go_only_past_the_grace_period() -> None:
    published_challenge()
    old, young = stored(b"left by a crashed upload", age_days=3), stored(b"just stored", age_days=0)

    report = artifacts_collect(dry_run=False)

    assert not in_store(old)
    assert in_store(young)
    assert report.files_left == 1
    assert Submission.objects.count() == 0


def test_a_file_stored_again_during_its_deletion_survives() -> None:
    store = artifact_store()
    touched = stored(b"stored again by an upload meanwhile")
    store.put_bytes(b"stored again by an upload meanwhile")  # refreshes its time
    assert file_delete(store, touched, older_than=_hours_ago(48)) is None
    assert in_store(touched)

    # The collector moved it aside; a writer then finds it missing and writes it again.
    aside = stored(b"moved aside while a writer stores it")
    path = store.path_for(aside)
    os.rename(path, path.with_name(ASIDE + aside))
    store.put_bytes(b"moved aside while a writer stores it")
    assert in_store(aside)

    # A collector that died mid-delete left a file aside: the next pass puts it back.
    left = stored(b"left aside by a dead collector")
    path = store.path_for(left)
    os.rename(path, path.with_name(ASIDE + left))
    assert left in stored_files(store)
    assert in_store(left)


def _hours_ago(hours: float) -> float:
    return time.time() - hours * 3600


def test_a_run_selected_after_it_was_chosen_is_left_alone() -> None:
    challenge = published_challenge(keep_days=1)
    (ada,) = participants(challenge, 1)
    ended_run(ada, artifacts={}, score=0.9)
    picked = ended_run(ada, artifacts={"logs": stored(b"picked at the last moment")})
    other = ended_run(ada, artifacts={"logs": stored(b"not picked")})
    chosen = expired_runs(challenge, now=timezone.now())
    Submission.objects.filter(pk=picked.pk).update(selected=True)

    assert runs_collect(runs=chosen, now=timezone.now()) == 1

    assert set(CollectedRun.objects.values_list("submission_id", flat=True)) == {other.pk}
