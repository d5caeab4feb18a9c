"""Each ended job stores its failure's kind: the one a worker's result carries when
it is in the vocabulary (else read from the reason), `lost` when the reaper gives
up on a silent worker, `cancelled` on a cancel; a retry clears it."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from dispatch.models import Transaction
from dispatch.services import (
    transaction_cancel,
    transaction_mark_started,
    transaction_record_result,
    transactions_reap,
    transactions_send_due,
)
from judging.models import Submission, SubmissionState
from judging.services import submission_cancel, submission_record_result, submissions_reap
from tests.notifications import failed_result, running_submission
from tests.test_transaction_lifecycle import RecordingSender, failure, published_transaction

pytestmark = pytest.mark.django_db


def test_a_judge_failure_keeps_the_kind_its_worker_named() -> None:
    submission = running_submission()
    result = {
        **failed_result(submission, "memory limit of 64 MB exceeded"),
        "failure_kind": "memory",
    }

    submission_record_result(result=result)

    submission.refresh_from_db()
    assert (submission.state, submission.failure_kind) == (SubmissionState.FAILED, "memory")


def test_a_kind_outside_the_vocabulary_is_read_from_the_reason_instead() -> None:
    submission = running_submission()
    reason = "fit on fold 0 raised KeyError: 'age'"
    result = {**failed_result(submission, reason), "failure_kind": "fit raised KeyError"}

    submission_record_result(result=result)

    submission.refresh_from_db()
    assert submission.failure_kind == "student_error"


def test_the_reaper_ends_a_silent_run_as_lost_and_a_cancel_as_cancelled() -> None:
    silent, cancelled = running_submission(), running_submission()
    Submission.objects.filter(id=silent.pk).update(
        max_attempts=1, lease_expires_at=timezone.now() - timedelta(seconds=1)
    )

    submissions_reap()
    submission_cancel(submission=cancelled, revoke=lambda task_id: None)

    silent.refresh_from_db()
    cancelled.refresh_from_db()
    assert (silent.state, silent.failure_kind) == (SubmissionState.FAILED, "lost")
    assert (cancelled.state, cancelled.failure_kind) == (SubmissionState.CANCELLED, "cancelled")


def test_a_release_ends_with_its_kind_lost_when_reaped_and_cancelled_on_cancel() -> None:
    failed, reaped, cancelled = (published_transaction() for _ in range(3))
    transactions_send_due(send=RecordingSender())
    Transaction.objects.update(max_attempts=1)
    transaction_mark_started(transaction_id=reaped.id, attempt=1, worker="jobs@vm pid 7")
    Transaction.objects.filter(id=reaped.id).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )

    transaction_record_result(result={**failure(failed, 1), "failure_kind": "infrastructure"})
    transactions_reap()
    transaction_cancel(transaction=cancelled, revoke=lambda task_id: None)

    kinds = dict(Transaction.objects.values_list("id", "failure_kind"))
    assert [kinds[tx.id] for tx in (failed, reaped, cancelled)] == [
        "infrastructure",
        "lost",
        "cancelled",
    ]
