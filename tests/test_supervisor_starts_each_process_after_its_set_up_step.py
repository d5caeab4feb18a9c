"""`make run`'s supervisor starts a process only once the set-up step it waits on
is done (the web server after the migrations and static files), while the others
already run; a failed set-up stops what had started."""

from __future__ import annotations

import io
import os
import signal
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest

from ppipe_site.supervisor import Process, Supervisor
from tests.servers import wait_until

SLEEPER = "import time; print('up', flush=True); time.sleep(120)"


@pytest.fixture(autouse=True)
def _signal_handlers_restored() -> Iterator[None]:
    # Supervisor.run installs its own SIGINT/SIGTERM handlers: pytest's come back.
    saved = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


def test_a_process_starts_once_its_step_is_done_and_not_before(tmp_path: Path) -> None:
    out = io.StringIO()
    step_file = tmp_path / "step"
    early = Process("early", [sys.executable, "-c", SLEEPER])
    # Prints what the set-up wrote before announcing its step, then ends (which
    # stops the supervisor): started before the step, it would find no file.
    late = Process(
        "late", [sys.executable, "-c", f"print(open({str(step_file)!r}).read())"], after="step"
    )

    def set_up(done: Callable[[str], None]) -> None:
        wait_until(lambda: "early | up" in out.getvalue(), timeout=120, what="the early process")
        assert "late" not in out.getvalue()
        step_file.write_text("the step's work")
        done("step")

    supervisor = Supervisor([early, late], env=os.environ, out=out)
    returncode = supervisor.run(set_up)

    assert returncode == 1  # late ended on its own, which stops everything
    assert "late  | the step's work" in out.getvalue()
    assert not psutil.pid_exists(supervisor.running["early"].pid)


def test_a_failed_set_up_stops_what_had_started() -> None:
    out = io.StringIO()
    early = Process("early", [sys.executable, "-c", SLEEPER])
    late = Process("late", [sys.executable, "-c", SLEEPER], after="step")

    def set_up(done: Callable[[str], None]) -> None:
        wait_until(lambda: "early | up" in out.getvalue(), timeout=120, what="the early process")
        raise RuntimeError("the migrations failed")

    supervisor = Supervisor([early, late], env=os.environ, out=out)
    returncode = supervisor.run(set_up)

    assert returncode == 1
    assert "set-up failed (the migrations failed): stopping everything" in out.getvalue()
    assert "late" not in supervisor.running
    assert supervisor.running["early"].poll() is not None
