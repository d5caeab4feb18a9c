"""The one way a worker's `execute_*` task turns a job into a result.

An executor (worker_wing) returns a result for every failure it knows about; what
is left is the worker's own time limit running out and a bug of ours. Both must
still end as a result with a reason the teacher or student can read, recorded
like any other, never as a job stuck `running` or a silent traceback: they become
a transient `JobFailure` (the worker's trouble, not the job's), which `failed`
turns into the job kind's failure result (worker_wing.jobs).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from celery.exceptions import SoftTimeLimitExceeded

from worker_wing.jobs import FailureKind, JobFailure

logger = logging.getLogger(__name__)

Result = TypeVar("Result")


def job_outcome(
    run: Callable[[], Result],
    *,
    failed: Callable[[JobFailure], Result],
    worker: str,
    time_limit_reason: str,
    what: str,
) -> Result:
    """`run()`'s result, or `failed(failure)` when the time limit or a bug ended it."""
    try:
        return run()
    except SoftTimeLimitExceeded:
        return failed(
            JobFailure(time_limit_reason, transient=True, kind=FailureKind.INFRASTRUCTURE)
        )
    except JobFailure as failure:
        return failed(failure)
    except Exception as error:
        logger.exception("%s failed unexpectedly", what)
        reason = f"internal error on {worker}: {type(error).__name__}: {error}"
        return failed(JobFailure(reason, transient=True, kind=FailureKind.INFRASTRUCTURE))
