"""The heartbeat: beat → broker → control worker → result store.

The control worker writes the time of the last heartbeat into the result
backend; /healthz reads it back, so an operator sees at a glance whether the
schedule is flowing, not only whether the servers answer.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast

from celery import current_app
from celery.backends.base import KeyValueStoreBackend

HEARTBEAT_KEY = "ppipe:heartbeat"


def result_store() -> KeyValueStoreBackend:
    # The result backend is Redis (a key-value store) in every supported deployment.
    # The app as Celery knows it (foundation.celery's, once loaded), not an import of
    # it: foundation.celery loads database_outages, which reads this store.
    return cast(KeyValueStoreBackend, current_app.backend)


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
