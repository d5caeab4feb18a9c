"""Which live workers serve which queue, and so which challenges: for the admin
(a challenge's judging pool), the operations page and the choice of a worker to
reproduce a run on.

Workers are asked over the broker (Celery's `active_queues` broadcast), which
waits the whole timeout for replies: the answer is cached for a few seconds per
process, so a busy admin page costs one broadcast, not one per view.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count

from challenges.models import SHARED_JUDGE_QUEUE, Challenge
from ppipe_site.celery import app

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


@dataclass(frozen=True)
class JudgePool:
    """A judge queue, the challenges judged on it and the workers serving it now."""

    queue: str
    challenges: list[str]
    workers: list[str] | None  # None: unknown (the broker did not answer)
    waiting: int

    @property
    def unserved(self) -> bool:
        return self.workers == []

    @property
    def described(self) -> str:
        if self.workers is None:
            return "unknown: the workers could not be asked (is the broker up?)"
        if not self.workers:
            return (
                f"no live worker serves {self.queue}: its submissions wait until one starts "
                f"(ppipe-worker --queues {self.queue} on the data owner's servers)"
            )
        return "served by " + ", ".join(self.workers)


def judge_pool_of(challenge: Challenge, live: dict[str, list[str]] | None) -> JudgePool:
    queue = challenge.judge_queue or SHARED_JUDGE_QUEUE
    workers = None if live is None else live.get(queue, [])
    return JudgePool(queue, [challenge.slug], workers, waiting=0)


def judge_pools(live: dict[str, list[str]] | None) -> list[JudgePool]:
    """The shared pool and every challenge's own queue, with their waiting submissions."""
    from judging.models import IN_FLIGHT_STATES, SubmissionState

    by_queue: dict[str, list[str]] = {SHARED_JUDGE_QUEUE: []}
    for slug, queue in Challenge.objects.order_by("slug").values_list("slug", "judge_queue"):
        by_queue.setdefault(queue or SHARED_JUDGE_QUEUE, []).append(slug)
    waiting = dict(
        Challenge.objects.filter(submissions__state__in=[SubmissionState.NEW, *IN_FLIGHT_STATES])
        .order_by()
        .values_list("judge_queue")
        .annotate(count=Count("submissions"))
        .values_list("judge_queue", "count")
    )
    return [
        JudgePool(
            queue,
            slugs,
            None if live is None else live.get(queue, []),
            waiting.get("" if queue == SHARED_JUDGE_QUEUE else queue, 0),
        )
        for queue, slugs in by_queue.items()
    ]
