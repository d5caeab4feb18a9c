"""Every judging pool at once, with its waiting submissions, for the operations
page (a challenge's own pool: challenges/judge_pools.py)."""

from __future__ import annotations

from django.db.models import Count

from challenges.judge_pools import JudgePool
from challenges.models import SHARED_JUDGE_QUEUE, Challenge


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
