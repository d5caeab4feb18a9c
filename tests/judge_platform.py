"""Real processes for judging tests: a control worker with the database, judge
workers without it (a judge machine holds no database credentials), and beat for
the feeder and reaper ticks, with timings short enough for a test."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import TypeVar

from django.conf import settings

from judging.models import ENDED_STATES, Submission
from tests.processes import (
    BeatProcess,
    CeleryProcess,
    WorkerProcess,
    stop_together,
    wait_all_ready,
)
from tests.servers import grown_with_load, wait_until

FAST = {
    "PPIPE_JUDGE_TICK_SECONDS": "1",
    "PPIPE_REAPER_SECONDS": "1",
    "PPIPE_JUDGE_HEARTBEAT_SECONDS": "1",
    "PPIPE_JUDGE_LEASE_SECONDS": "4",
    "PPIPE_JUDGE_QUEUE_SECONDS": "30",
}
# Clocks the platform races its own workers against: on a loaded machine a heartbeat
# or a job's start comes late, and an idle machine's lease would take a job back from
# a worker still judging it (judged twice, a test's outcome decided by the load).
# They grow with the load, as the tests' waits do.
GROWN_WITH_LOAD = ("PPIPE_JUDGE_LEASE_SECONDS", "PPIPE_JUDGE_QUEUE_SECONDS")
# Where a judge worker would find a database if it looked: nowhere.
NO_DATABASE = "postgresql://nobody@127.0.0.1:9/no-database-here"
P = TypeVar("P", bound=CeleryProcess)


def _env(clocks: dict[str, str], **extra: str) -> dict[str, str]:
    return {
        **FAST,
        **clocks,
        "PPIPE_ARTIFACT_DIR": str(settings.PPIPE_ARTIFACT_DIR),
        "PPIPE_PRIVATE_DIR": str(settings.PPIPE_PRIVATE_DIR),
        **extra,
    }


@dataclass
class JudgePlatform:
    stack: ExitStack
    # One value per platform: every process reads the same lease and deadlines.
    clocks: dict[str, str] = field(default_factory=lambda: grown_with_load(FAST, GROWN_WITH_LOAD))
    workers: list[WorkerProcess] = field(default_factory=list)
    # Everything started, stopped together when the platform ends (stop_together).
    processes: list[CeleryProcess] = field(default_factory=list)

    def judge_worker(self, queue: str = "judge", **extra: str) -> WorkerProcess:
        return self._judge_workers(1, queue, **extra)[0]

    def _judge_workers(self, count: int, queue: str = "judge", **extra: str) -> list[WorkerProcess]:
        # No private store either: the hidden labels are not on a judge machine.
        env = _env(self.clocks, DATABASE_URL=NO_DATABASE, PPIPE_PRIVATE_DIR="/nonexistent", **extra)
        started = [self._started(WorkerProcess([queue], **env)) for _ in range(count)]
        self.workers.extend(wait_all_ready(started))
        return started

    def _started(self, process: P) -> P:
        self.processes.append(process)
        return process

    def logs(self) -> str:
        return "\n\n".join(worker.log_tail(30) for worker in self.workers)

    def wait_until_ended(self, submission: Submission, timeout: float = 90) -> Submission:
        def ended() -> bool:
            submission.refresh_from_db()
            return submission.state in ENDED_STATES

        try:
            wait_until(ended, timeout=timeout, what=f"submission {submission.pk} to end")
        except TimeoutError as error:
            raise TimeoutError(f"{error} ({submission.state})\n{self.logs()}") from None
        return submission


@contextmanager
def judge_platform(
    *, judges: int = 1, beat: bool = True, **control_env: str
) -> Iterator[JudgePlatform]:
    with ExitStack() as stack:
        platform = JudgePlatform(stack=stack)
        stack.callback(lambda: stop_together(platform.processes))
        # The control worker starts while the judges start (wait_all_ready).
        control = platform._started(
            WorkerProcess(["control"], concurrency=2, **_env(platform.clocks, **control_env))
        )
        # Beat too: its first ticks wait in the broker until the workers consume.
        if beat:
            platform._started(BeatProcess(**_env(platform.clocks, **control_env)))
        platform._judge_workers(judges)
        platform.workers.insert(0, control.wait_ready())
        yield platform
