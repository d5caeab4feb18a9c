"""A challenge's judging pool: its judge queue and the live workers serving it
(foundation/live_workers.py asks the broker)."""

from __future__ import annotations

from dataclasses import dataclass

from challenges.models import SHARED_JUDGE_QUEUE, Challenge


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
