"""How a submission's runs are worded for its author: the one place that says
whether a run will be judged again or not, for the timeline, the submission
page and the API.

A run is repeated only when the platform failed it (a worker lost, a sandbox
that would not start), a bounded number of times; a failure of the student's
code (an exception, a limit) is final at once. "run 1 of at most 3" alone read
as a promise of retries, so each wording says which case it is.
"""

from __future__ import annotations

from worker_wing.jobs import STUDENT_KINDS, FailureKind

_LIMITS = STUDENT_KINDS - {FailureKind.STUDENT_ERROR}


def run_queued(*, attempt: int, max_attempts: int) -> str:
    """A run sent to a judge worker."""
    if attempt <= 1:
        return (
            f"run {attempt} of at most {max_attempts}: judged again only if the platform "
            "fails it, never for an error in your code"
        )
    return (
        f"run {attempt} of at most {max_attempts}: the platform failed the last run, "
        "so it runs again"
    )


def run_will_retry(*, reason: str, attempt: int, max_attempts: int) -> str:
    """A run the platform failed, with runs left: it goes back to wait for a worker."""
    return f"run {attempt} of at most {max_attempts}: {reason}, so it will run again"


def run_gave_up(*, reason: str, attempt: int) -> str:
    """The reason of a submission whose every run the platform failed."""
    runs = "run" if attempt == 1 else "runs"
    return f"{reason} (gave up after {attempt} {runs}: it will not run again)"


def run_status(*, state: str, attempts: int, max_attempts: int, failure_kind: str) -> str:
    """The line under a submission's state: which run this is and whether another
    one will come."""
    if state == "cancelled":
        return "cancelled: it will not run"
    if state == "failed":
        if failure_kind == FailureKind.STUDENT_ERROR:
            return "failed: your code raised an error; it will not be retried"
        if failure_kind in _LIMITS:
            return "failed: your code went past a limit; it will not be retried"
        runs = "run" if attempts == 1 else "runs"
        return (
            f"failed after {attempts} {runs}: the platform could not judge it; it will not "
            "run again by itself (your teacher can have it judged again)"
        )
    if state == "scored":
        return f"scored in run {attempts} of at most {max_attempts}" if attempts > 1 else ""
    if attempts == 0:
        return ""
    if state == "new":
        return run_will_retry(
            reason="the platform failed it", attempt=attempts, max_attempts=max_attempts
        )
    return run_queued(attempt=attempts, max_attempts=max_attempts)
