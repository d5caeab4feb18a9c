"""Real processes for live endpoints: a control worker (database, labels), a probe
worker as a thread pool with neither database credentials nor labels, and beat."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from tests.judge_platform import NO_DATABASE
from tests.processes import BeatProcess, WorkerProcess

FAST = {"PPIPE_PROBE_TICK_SECONDS": "1", "PPIPE_PROBE_TIMEOUT_SECONDS": "2"}


@contextmanager
def probe_platform(settings: Any, *, beat: bool = True) -> Iterator[list[WorkerProcess]]:
    """Start the processes; `settings` is pytest-django's fixture (the web side's
    probe timeout matches the workers')."""
    settings.PPIPE_PROBE_TIMEOUT_SECONDS = 2
    env = {**FAST, "PPIPE_ARTIFACT_DIR": str(settings.PPIPE_ARTIFACT_DIR)}
    with ExitStack() as stack:
        control = WorkerProcess(
            ["control"], concurrency=2, PPIPE_PRIVATE_DIR=str(settings.PPIPE_PRIVATE_DIR), **env
        )
        stack.callback(control.stop)
        prober = WorkerProcess(
            ["probe"],
            concurrency=8,
            pool="threads",
            DATABASE_URL=NO_DATABASE,
            PPIPE_PRIVATE_DIR="/nonexistent",
            **env,
        )
        stack.callback(prober.stop)
        workers = [control.wait_ready(), prober.wait_ready()]
        if beat:
            stack.callback(BeatProcess(**env).stop)
        yield workers
