"""A judge worker's processes start their sandbox's nursery when they start, not at
their first job: its imports (about a second of CPU) then overlap the wait for work,
and a student's first submission after a worker starts is judged that much sooner.

Celery forks the pool's processes after the worker has set up its queues, so the
parent notes whether it judges and each child acts on it as it starts."""

from __future__ import annotations

from typing import Any

from celery.signals import celeryd_after_setup, worker_process_init

from worker_node.command import OWN_JUDGE_QUEUE

_judges = False


def judges(queues: list[str]) -> bool:
    """Whether a worker consuming `queues` runs judge jobs."""
    return any(queue == "judge" or OWN_JUDGE_QUEUE.fullmatch(queue) for queue in queues)


@celeryd_after_setup.connect
def _note_whether_this_worker_judges(instance: Any, **_: Any) -> None:
    global _judges
    _judges = judges(list(instance.app.amqp.queues.consume_from))


@worker_process_init.connect
def _warm_the_judge(**_: Any) -> None:
    # Celery gives a new process a few seconds to say it is alive: only what starts
    # at once here (the nursery's process; its imports go on in the background).
    if _judges:
        from worker_node.celery import settings
        from worker_wing.judge.executor import judge_prewarm

        judge_prewarm(settings.sandbox)
