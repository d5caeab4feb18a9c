"""The calls other apps make when something a person should hear of happens.

Each is one line in the service that records the event, inside its transaction:
it only asks for a control task to run after the commit, so the mail is composed
and sent outside the recording transaction (and never when it rolls back).
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from django.db import transaction
from kombu.exceptions import OperationalError as BrokerUnreachable

logger = logging.getLogger(__name__)


def enqueue(task_name: str, **kwargs: Any) -> None:
    # Lazy: the services that call the hooks stay importable without Celery's wiring.
    from notifications import tasks

    try:
        getattr(tasks, task_name).apply_async(kwargs=kwargs, retry=False)
    except (BrokerUnreachable, OSError):  # the event is recorded, its mail is not sent
        logger.warning("notification task %s was not sent for %s", task_name, kwargs)


def submission_ended(*, submission_id: int, attempt: int) -> None:
    """A submission was just scored or failed (its author is told)."""
    transaction.on_commit(
        partial(enqueue, "notify_submission_ended", submission_id=submission_id, attempt=attempt)
    )


def release_delivered(*, transaction_id: int) -> None:
    """A release transaction just reached its destination (its students are told)."""
    transaction.on_commit(
        partial(enqueue, "notify_release_delivered", transaction_id=transaction_id)
    )
