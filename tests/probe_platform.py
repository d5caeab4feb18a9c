"""Real processes for live endpoints: a control worker (database, labels), a probe
worker as a thread pool with neither database credentials nor labels, and beat."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from typing import Any

from tests.judge_platform import NO_DATABASE
from tests.processes import BeatProcess, CeleryProcess, WorkerProcess, stop_together, wait_all_ready
from tests.servers import patience

FAST = {"PPIPE_PROBE_TICK_SECONDS": "1"}


def probe_timeout_seconds() -> int:
    """2 s on an idle machine, for a silent endpoint's probes to end soon; grown with
    the load, or a model server answering from a thread of the loaded test process
    would be timed out like the silent one."""
    return max(2, round(2 * patience()))


@contextmanager
def probe_platform(settings: Any, *, beat: bool = True) -> Iterator[list[WorkerProcess]]:
    """Start the processes; `settings` is pytest-django's fixture (the web side's
    probe timeout matches the workers')."""
    settings.PPIPE_PROBE_TIMEOUT_SECONDS = probe_timeout_seconds()
    env = {
        **FAST,
        "PPIPE_PROBE_TIMEOUT_SECONDS": str(settings.PPIPE_PROBE_TIMEOUT_SECONDS),
        "PPIPE_ARTIFACT_DIR": str(settings.PPIPE_ARTIFACT_DIR),
    }
    with ExitStack() as stack:
        # Stopped together, and the two workers' start-ups overlap (tests/processes.py).
        processes: list[CeleryProcess] = []
        stack.callback(lambda: stop_together(processes))
        control = WorkerProcess(
            ["control"], concurrency=2, PPIPE_PRIVATE_DIR=str(settings.PPIPE_PRIVATE_DIR), **env
        )
        processes.append(control)
        prober = WorkerProcess(
            ["probe"],
            concurrency=8,
            pool="threads",
            DATABASE_URL=NO_DATABASE,
            PPIPE_PRIVATE_DIR="/nonexistent",
            **env,
        )
        processes.append(prober)
        # Beat starts with them too: its first ticks wait in the broker until the
        # workers consume.
        if beat:
            processes.append(BeatProcess(**env))
        yield wait_all_ready([control, prober])
