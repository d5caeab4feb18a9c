"""Judging pools: a judge queue, the challenges judged on it and the live workers
serving it (foundation/live_workers.py asks the broker); one challenge's for its
admin page, every one with its waiting submissions for the operations page."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count

from judging.models import IN_FLIGHT_STATES, SHARED_JUDGE_QUEUE, JudgingRules, SubmissionState


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


def judge_pool_of(rules: JudgingRules, live: dict[str, list[str]] | None) -> JudgePool:
    queue = rules.judge_queue or SHARED_JUDGE_QUEUE
    workers = None if live is None else live.get(queue, [])
    return JudgePool(queue, [rules.challenge.slug], workers, waiting=0)


def judge_pools(live: dict[str, list[str]] | None) -> list[JudgePool]:
    """The shared pool and every challenge's own queue, with their waiting submissions."""
    by_queue: dict[str, list[str]] = {SHARED_JUDGE_QUEUE: []}
    rules = JudgingRules.objects.order_by("challenge__slug")
    for slug, queue in rules.values_list("challenge__slug", "judge_queue"):
        by_queue.setdefault(queue or SHARED_JUDGE_QUEUE, []).append(slug)
    waiting = dict(
        JudgingRules.objects.filter(
            challenge__submissions__state__in=[SubmissionState.NEW, *IN_FLIGHT_STATES]
        )
        .order_by()
        .values_list("judge_queue")
        .annotate(count=Count("challenge__submissions"))
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
