"""The heartbeat: beat → broker → control worker → result store.

The control worker writes the time of the last heartbeat into the result
backend; /healthz reads it back, so an operator sees at a glance whether the
schedule is flowing, not only whether the servers answer.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast

from celery.backends.base import KeyValueStoreBackend

from foundation.celery import app

HEARTBEAT_KEY = "ppipe:heartbeat"


def result_store() -> KeyValueStoreBackend:
    # The result backend is Redis (a key-value store) in every supported deployment.
    return cast(KeyValueStoreBackend, app.backend)


def heartbeat_record(*, at: datetime | None = None) -> datetime:
    moment = at or datetime.now(UTC)
    result_store().set(HEARTBEAT_KEY, moment.isoformat())
    return moment


def heartbeat_last() -> datetime | None:
    raw = result_store().get(HEARTBEAT_KEY)
    if raw is None:
        return None
    text = raw.decode() if isinstance(raw, bytes) else str(raw)
    return datetime.fromisoformat(text)
