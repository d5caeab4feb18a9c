"""Database outages as the control side saw them, so reapers do not mistake
an outage for dead workers.

While the database is down, nothing a worker reports can be recorded: heartbeats
are lost and results wait in the broker (record tasks retry until the database
is back). A lease that ran out meanwhile says nothing about its worker, so a
reaper takes nothing back until a whole term of its own has passed since the
last failed contact; by then the heartbeats and waiting results are in.

The moment is kept in the result store (Redis), shared by every control process.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from celery.signals import task_failure, task_retry

from foundation.celery import RECORD_RETRY_MAX_SECONDS
from foundation.heartbeat import result_store

logger = logging.getLogger(__name__)

OUTAGE_KEY = "ppipe:database-unreachable-at"


def database_outage_note(*, at: datetime | None = None) -> None:
    moment = at or datetime.now(UTC)
    try:
        result_store().set(OUTAGE_KEY, moment.isoformat())
    except Exception:  # the broker may be down too; the reaper then sees no outage
        logger.warning("could not note a database outage in the result store")


def database_outage_last() -> datetime | None:
    raw = result_store().get(OUTAGE_KEY)
    if raw is None:
        return None
    return datetime.fromisoformat(raw.decode() if isinstance(raw, bytes) else str(raw))


def reaping_paused(*, term_seconds: float, now: datetime | None = None) -> bool:
    """True soon after the control side's last failed contact with the database:
    leases that ran out then are not evidence of a dead worker."""
    last = database_outage_last()
    if last is None:
        return False
    pause = timedelta(seconds=term_seconds + RECORD_RETRY_MAX_SECONDS)
    paused = (now or datetime.now(UTC)) - last < pause
    if paused:
        logger.info("reaping paused: the database was unreachable at %s", last.isoformat())
    return paused


def is_database_unreachable(error: BaseException | None) -> bool:
    from django.db import InterfaceError, OperationalError

    return isinstance(error, OperationalError | InterfaceError)


@task_failure.connect
def _note_on_failure(exception: BaseException | None = None, **_: Any) -> None:
    if is_database_unreachable(exception):
        database_outage_note()


@task_retry.connect
def _note_on_retry(reason: Any = None, **_: Any) -> None:
    if isinstance(reason, BaseException) and is_database_unreachable(reason):
        database_outage_note()
