"""The one way a worker's `execute_*` task turns a job into a result.

An executor (worker_wing) returns a result for every failure it knows about; what
is left is the worker's own time limit running out and a bug of ours. Both must
still end as a result with a reason the teacher or student can read, recorded
like any other, never as a job stuck `running` or a silent traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded

logger = logging.getLogger(__name__)

Result = dict[str, Any]


def job_outcome(
    run: Callable[[], Result],
    *,
    failed: Callable[[str], Result],
    worker: str,
    time_limit_reason: str,
    what: str,
) -> Result:
    """`run()`'s result, or `failed(reason)` when the time limit or a bug ended it."""
    try:
        return run()
    except SoftTimeLimitExceeded:
        return failed(time_limit_reason)
    except Exception as error:
        logger.exception("%s failed unexpectedly", what)
        return failed(f"internal error on {worker}: {type(error).__name__}: {error}")
