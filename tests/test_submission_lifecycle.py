"""Starting, recording, reaping and cancelling submissions: each run is recorded
once, a vanished worker costs one of a bounded number of runs, nothing stays
queued or running forever, and a cancel wins over a late result."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from judging.models import Submission, SubmissionState
from judging.services import (
    submission_cancel,
    submission_mark_started,
    submission_record_result,
    submission_rejudge,
    submissions_feed,
    submissions_reap,
)
from tests.submissions import RecordingSender, participants, published_challenge, upload

pytestmark = pytest.mark.django_db
State = SubmissionState


def running_submission(**challenge_fields: Any) -> Submission:
    submission = upload(participants(published_challenge(**challenge_fields), 1)[0])
    submissions_feed(send=RecordingSender())
    submission.refresh_from_db()
    attempt = submission.attempts + 1
    assert submission_mark_started(submission_id=submission.pk, attempt=attempt, worker="w1")
    submission.refresh_from_db()
    return submission


def good_result(submission: Submission, **overrides: Any) -> dict[str, Any]:
    rows = (
        submission.challenge.split.public_test_rows + submission.challenge.split.private_test_rows
    )
    return {
        "submission_id": submission.pk,
        "attempt": submission.attempts,
        "ok": True,
        "test_predictions": ["setosa"] * rows,
        "folds": [
            {
                "index": i,
                "score": 0.9,
                "fit_seconds": 0.1,
                "predict_seconds": 0.01,
                "cpu_seconds": 0.1,
                "peak_memory_mb": 120.0,
            }
            for i in range(5)
        ],
        "cv_mean": 0.9,
        "cv_std": 0.01,
        "cpu_seconds": 0.6,
        "peak_memory_mb": 130.0,
        "fit_seconds": 0.5,
        "wall_seconds": 1.0,
        "stdout_tail": "",
        "stderr_tail": "",
        "worker": "w1",
        **overrides,
    }


def test_a_result_is_scored_against_the_hidden_labels_once() -> None:
    submission = running_submission()

    first = submission_record_result(result=good_result(submission))
    again = submission_record_result(result=good_result(submission, cv_mean=0.1))

    submission.refresh_from_db()
    assert (first, again) == (State.SCORED, "stale")
    assert submission.state == State.SCORED
    assert submission.cv_mean == 0.9
    assert submission.folds.count() == 5
    # Iris has three balanced classes: "setosa" everywhere is right a third of the time.
    assert submission.public_score == pytest.approx(1 / 3, abs=0.1)
    assert submission.private_score == pytest.approx(1 / 3, abs=0.1)


def test_predictions_of_the_wrong_length_fail_with_the_reason() -> None:
    submission = running_submission()

    submission_record_result(result=good_result(submission, test_predictions=["setosa"]))

    submission.refresh_from_db()
    assert submission.state == State.FAILED
    assert "the test predictions have 1 rows" in submission.reason.lower()


def test_a_students_fault_fails_at_once_with_the_reason_and_the_tail() -> None:
    submission = running_submission()
    result = {
        **good_result(submission),
        "ok": False,
        "transient": False,
        "reason": "fit raised ValueError: bad",
        "stderr_tail": "Traceback ...",
    }

    submission_record_result(result=result)

    submission.refresh_from_db()
    assert (submission.state, submission.reason) == (State.FAILED, "fit raised ValueError: bad")
    assert submission.stderr_tail == "Traceback ..."


def test_trouble_on_our_side_is_judged_again_then_fails_saying_so() -> None:
    submission = running_submission()
    states = []
    for _ in range(submission.max_attempts):
        submission.refresh_from_db()
        reason = "this judge worker cannot sandbox student code"
        result = {**good_result(submission), "ok": False, "transient": True, "reason": reason}
        states.append(submission_record_result(result=result))
        submissions_feed(send=RecordingSender())
        submission.refresh_from_db()
        submission_mark_started(
            submission_id=submission.pk, attempt=submission.attempts + 1, worker="w1"
        )

    submission.refresh_from_db()
    assert states == [State.NEW, State.NEW, State.FAILED]
    assert submission.state == State.FAILED
    assert "gave up after 3 runs" in submission.reason


def test_the_reaper_takes_back_a_run_whose_worker_stopped_answering() -> None:
    submission = running_submission()

    assert submissions_reap(now=timezone.now() + timedelta(hours=1)) == 1

    submission.refresh_from_db()
    assert submission.state == State.NEW
    assert "stopped answering" in submission.events.last().message  # type: ignore[union-attr]


def test_a_job_no_worker_took_waits_again_without_costing_a_run() -> None:
    submission = upload(participants(published_challenge(), 1)[0])
    submissions_feed(send=RecordingSender())

    submissions_reap(now=timezone.now() + timedelta(hours=1))

    submission.refresh_from_db()
    assert (submission.state, submission.attempts) == (State.NEW, 0)


def test_a_cancel_revokes_the_running_job_and_wins_over_its_late_result(
    django_capture_on_commit_callbacks: Any,
) -> None:
    submission = running_submission()
    Submission.objects.filter(pk=submission.pk).update(task_id="task-7")
    revoked: list[str] = []

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert submission_cancel(submission=submission, revoke=revoked.append)
    callbacks[0]()
    late = submission_record_result(result=good_result(submission))

    submission.refresh_from_db()
    assert revoked == ["task-7"]
    assert late == "stale"
    assert (submission.state, submission.reason) == (State.CANCELLED, "Cancelled by its author.")


def test_rejudge_starts_an_ended_submission_afresh() -> None:
    submission = running_submission()
    submission_record_result(result=good_result(submission))

    assert submission_rejudge(submission=submission)

    submission.refresh_from_db()
    assert (submission.state, submission.attempts, submission.public_score) == (State.NEW, 0, None)
    assert submission.folds.count() == 0
