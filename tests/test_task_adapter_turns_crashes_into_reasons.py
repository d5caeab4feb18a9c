"""A worker task whose executor is cut by the time limit or trips on a bug of
ours still yields a failed result with a reason a person can read."""

from __future__ import annotations

from typing import Any

from celery.exceptions import SoftTimeLimitExceeded

from worker_node.task_adapter import job_outcome
from worker_wing.jobs import JobFailure


def _failed(failure: JobFailure) -> dict[str, Any]:
    return {"ok": False, "reason": failure.reason}


def test_the_executor_result_passes_through() -> None:
    result = job_outcome(
        lambda: {"ok": True}, failed=_failed, worker="w1", time_limit_reason="late", what="job 1"
    )

    assert result == {"ok": True}


def test_the_time_limit_becomes_its_reason() -> None:
    def slow() -> dict[str, Any]:
        raise SoftTimeLimitExceeded()

    result = job_outcome(
        slow, failed=_failed, worker="w1", time_limit_reason="the upload took too long", what="j"
    )

    assert result == {"ok": False, "reason": "the upload took too long"}


def test_a_bug_becomes_a_reason_naming_the_worker_and_the_error() -> None:
    def buggy() -> dict[str, Any]:
        raise KeyError("sha256")

    result = job_outcome(
        buggy, failed=_failed, worker="judge@lab-7", time_limit_reason="", what="j"
    )

    assert result == {"ok": False, "reason": "internal error on judge@lab-7: KeyError: 'sha256'"}
