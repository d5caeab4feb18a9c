"""Which live workers serve which queue: for the admin (a challenge's judging
pool), the operations page and the choice of a worker to reproduce a run on.

Workers are asked over the broker (Celery's `active_queues` broadcast), which
waits the whole timeout for replies: the answer is cached for a few seconds per
process, so a busy admin page costs one broadcast, not one per view.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings

from foundation.celery import app

logger = logging.getLogger(__name__)
_CACHE_SECONDS = 10.0
_cache: tuple[float, dict[str, list[str]] | None] = (0.0, None)


def live_workers_by_queue(*, fresh: bool = False) -> dict[str, list[str]] | None:
    """Queue name -> the nodes (`judge@lab-07`) serving it now; None when the broker
    cannot be asked (then nothing can be said of any worker)."""
    global _cache
    asked_at, answer = _cache
    if not fresh and answer is not None and time.monotonic() - asked_at < _CACHE_SECONDS:
        return answer
    try:
        replies = app.control.inspect(
            timeout=settings.PPIPE_WORKERS_INSPECT_SECONDS
        ).active_queues()
    except Exception:
        logger.warning("the workers could not be asked which queues they serve")
        return None
    found: dict[str, list[str]] = {}
    for node, queues in sorted((replies or {}).items()):
        for queue in queues or []:
            found.setdefault(str(queue.get("name")), []).append(node)
    _cache = (time.monotonic(), found)
    return found
