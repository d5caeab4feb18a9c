"""The supervisor of `make run`: starts every process, prints their output with a
name prefix, and on Ctrl-C stops them all, in order, within a deadline.

Why our own rather than honcho: a terminal's Ctrl-C sends SIGINT to its whole
foreground process group. Under honcho that reached every Celery pool child at
the same moment as its worker, so the children died first and each worker
printed a WorkerLostError traceback per child; the broker could stop before the
workers had handed back their unacknowledged messages; and Flower and the control
worker, told twice, could be left waiting for SIGKILL. Here each process runs in
a session of its own (Ctrl-C reaches only this supervisor), and the supervisor
tells each one once: SIGTERM (a Celery worker's warm shutdown, which stops its
own pool children), the broker last, then SIGKILL for whatever is still running
at the deadline, the whole process group, so no orphan outlives `make run`.

A first start has set-up steps (migrations, static files, the demo): processes
that need none of them start at once, and the set-up runs meanwhile, in a thread
that announces each step it finishes; the processes that waited on a step then
start. Stopping works the same during set-up.
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import IO

from ppipe_site.service_user import SHARED_UMASK, ServiceAccount

# Seconds each stage of a stop may take before SIGKILL: the services, then the broker.
STOP_SECONDS = 7.0
BROKER_STOP_SECONDS = 2.0


@dataclass(frozen=True)
class Process:
    name: str
    command: list[str]
    # Stopped after all the others (the broker: workers hand their messages back to it).
    stops_last: bool = False
    # The set-up step it needs finished before it starts ("" for none).
    after: str = ""
    # The user it runs as, when not the supervisor's own (root's).
    run_as: ServiceAccount | None = None


# A set-up: runs in its own thread, calls `done(step)` when a step has finished, so
# that the processes waiting on it start; raises to abort the start.
SetUp = Callable[[Callable[[str], None]], None]


class Supervisor:
    def __init__(
        self, processes: Sequence[Process], *, env: Mapping[str, str], out: IO[str] = sys.stdout
    ) -> None:
        self.processes = list(processes)
        self.env = dict(env)
        self.out = out
        self.width = max((len(p.name) for p in self.processes), default=6)
        self.running: dict[str, subprocess.Popen[bytes]] = {}
        self._lock = threading.Lock()
        self._readers: list[threading.Thread] = []
        self._stop = threading.Event()
        # Steps the set-up thread has finished; only the main thread starts processes.
        self._steps_done: queue.Queue[str] = queue.Queue()
        self._setup_error: list[BaseException] = []

    def say(self, name: str, line: str) -> None:
        with self._lock:
            self.out.write(f"{time.strftime('%H:%M:%S')} {name:<{self.width}} | {line}\n")
            self.out.flush()

    def _pipe(self, name: str, stream: IO[bytes]) -> None:
        for raw in iter(stream.readline, b""):
            self.say(name, raw.decode(errors="replace").rstrip("\n"))
        stream.close()

    def start(self, processes: Sequence[Process] | None = None) -> None:
        for process in self.processes if processes is None else processes:
            account = process.run_as
            child = subprocess.Popen(
                process.command,
                env=self.env if account is None else _env_of(account, self.env),
                # Dropped by subprocess between fork and exec: groups first, no
                # supplementary group of root's kept.
                user=None if account is None else account.uid,
                group=None if account is None else account.gid,
                extra_groups=None if account is None else [],
                umask=-1 if account is None else SHARED_UMASK,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                # Its own session and process group: the terminal's Ctrl-C reaches
                # the supervisor only, which stops each process in its turn.
                start_new_session=True,
            )
            assert child.stdout is not None
            self.running[process.name] = child
            reader = threading.Thread(
                target=self._pipe, args=(process.name, child.stdout), daemon=True
            )
            reader.start()
            self._readers.append(reader)

    def run(self, set_up: SetUp | None = None) -> int:
        """Start everything (each process once the set-up step it waits on is done)
        and wait for Ctrl-C (or SIGTERM): 0 after a clean stop, 1 when a process ended
        on its own or the set-up failed (everything else is stopped then too)."""
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: self._stop.set())
        waiting = [p for p in self.processes if p.after]
        self.start([p for p in self.processes if not p.after])
        setting_up = self._run_set_up(set_up)
        failed = False
        while not self._stop.wait(0.2):
            while not self._steps_done.empty():
                step = self._steps_done.get()
                self.start([p for p in waiting if p.after == step])
                waiting = [p for p in waiting if p.after != step]
            if self._setup_error:
                self.say("system", f"set-up failed ({self._setup_error[0]}): stopping everything")
                failed = True
                break
            if waiting and not setting_up.is_alive() and self._steps_done.empty():
                names = ", ".join(p.name for p in waiting)
                self.say("system", f"set-up ended without starting {names}: stopping everything")
                failed = True
                break
            ended = next((n for n, p in self.running.items() if p.poll() is not None), "")
            if ended:
                code = self.running[ended].returncode
                self.say("system", f"{ended} ended (exit code {code}): stopping everything")
                failed = True
                break
        self.stop()
        return 1 if failed else 0

    def _step_done(self, step: str) -> None:
        # Said when it happens: the bench (bench/first_start.py) times each step by it.
        self.say("system", f"set-up step done: {step}")
        self._steps_done.put(step)

    def _run_set_up(self, set_up: SetUp | None) -> threading.Thread:
        def work() -> None:
            try:
                if set_up is not None:
                    set_up(self._step_done)
            except BaseException as error:  # the main thread stops everything
                with self._lock:
                    traceback.print_exception(error, file=self.out)
                self._setup_error.append(error)

        # A daemon: on Ctrl-C during set-up, its current step's child gets the
        # terminal's SIGINT too, and nothing waits on the thread.
        thread = threading.Thread(target=work, name="set-up", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        started = time.monotonic()
        first = [p.name for p in self.processes if not p.stops_last]
        last = [p.name for p in self.processes if p.stops_last]
        self.say("system", "stopping: " + ", ".join(first + last))
        self._stop_stage(first, STOP_SECONDS)
        self._stop_stage(last, BROKER_STOP_SECONDS)
        for reader in self._readers:
            reader.join(timeout=2)
        self.say("system", f"stopped in {time.monotonic() - started:.1f} s")

    def _stop_stage(self, names: list[str], seconds: float) -> None:
        children = {name: self.running[name] for name in names if name in self.running}
        for child in children.values():
            # The leader only: a Celery worker stops its pool children itself, after
            # they finish; a child told directly dies first (WorkerLostError).
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and any(c.poll() is None for c in children.values()):
            time.sleep(0.05)
        for name, child in children.items():
            if child.poll() is None:
                self.say("system", f"{name} did not stop within {seconds:.0f} s: killed")
            # The leader may be gone while a child of its own lingers: the group goes.
            _signal_group(child, signal.SIGKILL)
            child.wait()


def _env_of(account: ServiceAccount, env: Mapping[str, str]) -> dict[str, str]:
    return {**env, "HOME": str(account.home), "USER": account.name, "LOGNAME": account.name}


def _signal_group(child: subprocess.Popen[bytes], signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(child.pid, signum)
