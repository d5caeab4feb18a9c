"""At most one woken judge feeder waiting in the broker at a time.

Every change that may give the feeder work (an upload, a slot freed by a result)
wakes it after its commit. A burst of them (a class uploading, ten results
recorded together) used to queue one feed each, and each read and ranked every
waiting submission again. Now a wake-up queues a feed only if none is queued
and not yet started, marked by a short-lived key in the result store (Redis).

No wake-up that matters is lost: a feed deletes the mark *before* it reads the
database, so a change committed before the deletion is seen by that feed, and
one committed after it finds no mark and queues the next feed. The mark expires
on its own (a feed's message lost with a restarted broker), and beat's periodic
feed stays the safety net for anything else.
"""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from django.db import connection, transaction

from foundation.celery import app
from judging import signals
from judging.judge_queues import judge_queue_waiting
from judging.models import Submission

logger = logging.getLogger(__name__)

# Per database: platforms (or test runs) sharing one Redis keep their own mark.
PENDING_KEY = "ppipe:judge-feed-pending:{database}"
# Longer than a feed waits behind other control tasks, shorter than anyone would
# notice should its message be lost (beat's feed comes sooner anyway).
PENDING_SECONDS = 30


def _redis() -> Any | None:
    # The result backend is Redis in every deployment (foundation/heartbeat.py);
    # without a client (another backend) every wake-up queues its feed, as before.
    return getattr(app.backend, "client", None)


def _pending_key() -> str:
    return PENDING_KEY.format(database=connection.settings_dict["NAME"])


def feed_wakeup_claim() -> bool:
    """True when the caller should queue a feed: none is waiting. False when one
    is queued and not started: it will read what the caller committed."""
    client = _redis()
    if client is None:
        return True
    try:
        return bool(client.set(_pending_key(), "1", nx=True, ex=PENDING_SECONDS))
    except Exception:  # Redis unreachable: queue it; the broker will tell
        return True


def feed_wakeup_release() -> None:
    """A feed starts (or was never queued): the next change queues another."""
    client = _redis()
    if client is None:
        return
    try:
        client.delete(_pending_key())
    except Exception:  # the mark expires by itself
        logger.warning("the judge feeder's wake-up mark was not cleared")


# --- what services call, inside the transaction of the change -------------------
def feed_after_commit() -> None:
    """Wake the feeder once the current transaction commits."""
    transaction.on_commit(partial(signals.judge_queue_changed.send, sender=Submission))


def feed_after_commit_if_room(submission_id: int, *, waiting_at_most: int) -> None:
    """Wake the feeder after the commit only if this submission's judge queue holds
    at most `waiting_at_most` jobs in the broker: with more, a judge slot freeing
    later (a result, which always wakes it) is soon enough, and a class's burst of
    uploads or starts does not run the feeder once each."""

    def wake_if_room() -> None:
        if judge_queue_waiting(submission_id) <= waiting_at_most:
            signals.judge_queue_changed.send(sender=Submission)

    transaction.on_commit(wake_if_room)
