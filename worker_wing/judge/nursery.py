"""The nursery, from the judge worker's side: one warm, participant-neutral process
per worker process, from which every participant's box is forked (the boxes
themselves, and why they are built so: worker_wing/judge/sandbox.py; the
nursery's own side: runner_nursery.py).

The worker starts it as it started every sandbox before: bubblewrap as root,
`setpriv` to the sandbox user, the sandbox seccomp filter, a clean environment,
in a cgroup of its own. It imports and warms the libraries once, holds no secret
and never runs a job. Its cgroup keeps what its imports cost (CPU and memory),
so no job is charged for them; a box inherits those pages copy-on-write, and the
worker adds what they weigh to each job's memory figures and takes it off the
job's memory limit, so that both read as they did when each sandbox imported
the libraries itself.

A box is made in three steps, none of which lets it run before it is in its
own cgroup: the worker sends the nursery an order with the box's pipes; the
nursery forks and answers with the child's pid in its PID namespace; the worker
finds the child's host pid among the nursery's children (NSpid), moves it into
the box's cgroup, and writes GO on the box's stdin.
"""

from __future__ import annotations

import contextlib
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from worker_wing.judge.job_cgroup import CgroupUnavailable, SandboxCgroup
from worker_wing.judge.leftovers import nursery_prefix, reclaim_leftovers
from worker_wing.judge.runner_nursery import NURSERY_READY, ORDER_BYTES
from worker_wing.judge.sandbox_command import (
    JOIN_CGROUP,
    LAUNCHER_ENV,
    THREAD_VARIABLES,
    SandboxConfig,
    SandboxUnavailable,
    bwrap_command,
)
from worker_wing.judge.seccomp_policy import sandbox_filter_bpf

MAX_AGE_SECONDS = 3600.0
# How long a new nursery may take to import its libraries (about a second idle),
# and a box to confine itself (tens of milliseconds).
START_SECONDS = 120.0
# The nursery's own tasks (its threads: pyarrow's I/O pool, BLAS), and boxes
# for the moment between their fork and their move into their own cgroups.
_NURSERY_TASKS = 64
# Room for the nursery's imports.
_START_MEMORY_BYTES = 2 * 2**30


class NurseryFailed(RuntimeError):
    """A box could not be forked; the message says why."""


def _children(pid: int) -> list[int]:
    found: list[int] = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with contextlib.suppress(OSError):
                listed = Path(f"/proc/{pid}/task/{task}/children").read_text()
                found += [int(child) for child in listed.split()]
    return found


def _status(pid: int) -> dict[str, list[str]]:
    fields: dict[str, list[str]] = {}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            name, _, value = line.partition(":")
            fields[name] = value.split()
    return fields


def _innermost_pid(pid: int) -> int:
    """The pid of a host process in the innermost PID namespace it is in, or 0."""
    nspid = _status(pid).get("NSpid") or ["0"]
    return int(nspid[-1])


def _descendant(root: int, inner: int, depth: int = 4) -> int:
    """The host pid of the process at or below `root` whose innermost pid is `inner`."""
    frontier = [root]
    for _ in range(depth):
        for pid in frontier:
            if _innermost_pid(pid) == inner:
                return pid
        frontier = [child for pid in frontier for child in _children(pid)]
    return 0


def first_child(pid: int) -> int:
    """The oldest child of a host process, or 0."""
    children = _children(pid)
    return min(children) if children else 0


class BoxProcess:
    """A box's process on the host, forked by the nursery (not a child of the worker's),
    watched through a pidfd: a pid the kernel reuses is never mistaken for it."""

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._pidfd = os.pidfd_open(pid)

    def poll(self) -> int | None:
        """None while it runs; -1 once it ended (its parent, not the worker, reaps it)."""
        if self._pidfd < 0:  # closed once it was reaped
            return -1
        return None if not select.select([self._pidfd], [], [], 0)[0] else -1

    def kill(self) -> None:
        if self._pidfd >= 0:
            with contextlib.suppress(ProcessLookupError):
                signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)

    def wait_reaped(self, timeout: float) -> None:
        """Until it is gone from the process table; TimeoutError past `timeout`."""
        deadline = time.monotonic() + timeout
        while self._pidfd >= 0:
            try:
                signal.pidfd_send_signal(self._pidfd, 0)
            except ProcessLookupError:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"process {self.pid} was not reaped")
            time.sleep(0.002)

    def close(self) -> None:
        if self._pidfd >= 0:
            with contextlib.suppress(OSError):
                os.close(self._pidfd)
            self._pidfd = -1


@dataclass
class Nursery:
    """The started nursery: bubblewrap's process, the control socket, its cgroup, and
    `folder`, the host folder of box sub-folders it binds at /job/boxes."""

    process: subprocess.Popen[bytes]
    control: socket.socket
    folder: Path
    config: SandboxConfig
    threads: int
    cgroup: SandboxCgroup
    started_at: float = field(default_factory=time.monotonic)
    ready: bool = False
    # Why it never got ready, once known.
    problem: str = ""
    # The nursery's Python process on the host, once ready.
    host_pid: int = 0
    # What a box inherits without its cgroup being charged for it: the nursery's
    # charge once warm, and the library pages it maps that another process read
    # first (a bare Python's resident memory counts them).
    inherited_charge: int = 0
    library_bytes: int = 0
    boxes: int = 0
    # One order at a time on the control socket, whatever thread sends it.
    _ordering: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def private(self) -> Path:
        """Its and its boxes' stderr files (and outputs, without bubblewrap): not bound."""
        return Path(f"{self.folder}.private")

    @property
    def inherited_bytes(self) -> int:
        return self.inherited_charge + self.library_bytes

    @classmethod
    def start(cls, config: SandboxConfig, threads: int, runner: Path) -> Nursery:
        """Start the nursery's process with `runner` (sandbox_runner.py) as its script,
        first reclaiming what dead judge processes left (every judge process, the
        worker's, a bench's or a test's, starts a nursery before its first box)."""
        reclaim_leftovers(config.work_root, config.cgroup_root)
        # Named for this process, so that others know when it is gone (leftovers.py).
        folder = Path(tempfile.mkdtemp(prefix=nursery_prefix(), dir=config.work_root))
        folder.chmod(0o755)
        Path(f"{folder}.private").mkdir(mode=0o700)
        try:
            cgroup = SandboxCgroup.create(folder.name, config.cgroup_root)
        except CgroupUnavailable as error:
            shutil.rmtree(folder, ignore_errors=True)
            shutil.rmtree(f"{folder}.private", ignore_errors=True)
            raise SandboxUnavailable(str(error)) from None
        cgroup.limit(memory_bytes=_START_MEMORY_BYTES, pids=_NURSERY_TASKS)
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        stderr_path = Path(f"{folder}.private/nursery.stderr")
        with tempfile.TemporaryFile() as program, stderr_path.open("wb") as stderr, theirs:
            program.write(sandbox_filter_bpf())
            program.seek(0)
            if config.mode == "none":
                # For trusted code only: a plain warm process, boxes without namespaces.
                command = [sys.executable, "-I", "-B", str(runner), str(folder)]
                env = {**os.environ, **{name: str(threads) for name in THREAD_VARIABLES}}
            else:
                command = bwrap_command(config, folder, threads, program.fileno(), runner)
                env = LAUNCHER_ENV
            process = subprocess.Popen(
                ["/bin/sh", "-c", JOIN_CGROUP, "ppipe-join", *cgroup.procs_files(), "--", *command],
                env=env,
                stdin=theirs.fileno(),
                stdout=stderr,
                stderr=stderr,
                start_new_session=True,
                pass_fds=(program.fileno(),),
            )
        return cls(process, ours, folder, config, threads, cgroup)

    def usable_for(self, config: SandboxConfig, threads: int) -> bool:
        return (
            self.config == config
            and self.threads == threads
            and not self.problem
            and self.process.poll() is None
            and time.monotonic() - self.started_at < MAX_AGE_SECONDS
        )

    def stderr_tail(self) -> str:
        try:
            return (self.private / "nursery.stderr").read_bytes()[-2000:].decode(errors="replace")
        except OSError:
            return ""

    def await_ready(self) -> str:
        """Wait for the nursery's imports; why it never got ready, or ""."""
        with self._ordering:
            if self.ready or self.problem:
                return self.problem
            return self._read_ready()

    def _read_ready(self) -> str:
        message = b""
        if select.select([self.control], [], [], START_SECONDS)[0]:
            with contextlib.suppress(OSError):
                message = self.control.recv(ORDER_BYTES)
        with contextlib.suppress(ValueError, KeyError, TypeError):
            inner = int(json.loads(message)[NURSERY_READY])
            self.host_pid = _descendant(self.process.pid, inner)
        if not self.host_pid:
            self.problem = self.stderr_tail().strip() or "no answer"
            self.kill()
            return self.problem
        self.ready = True
        self.inherited_charge = self.cgroup.memory_bytes()
        resident_files = int((_status(self.host_pid).get("RssFile") or ["0"])[0]) * 1024
        self.library_bytes = max(0, resident_files - self.cgroup.mapped_file_bytes())
        return ""

    def fork_box(self, name: str, *, isolate: bool, fds: list[int]) -> BoxProcess:
        """Fork a box with `fds` as its stdin, stdout and stderr; its host process. It
        waits, doing nothing, for GO on its stdin."""
        order = {"name": name, "isolate": isolate, "tmpfs_mb": self.config.tmpfs_mb}
        try:
            with self._ordering:
                socket.send_fds(self.control, [json.dumps(order).encode()], fds)
                if not select.select([self.control], [], [], START_SECONDS)[0]:
                    raise NurseryFailed("the nursery did not answer")
                answer = self.control.recv(ORDER_BYTES)
        except OSError as error:
            raise NurseryFailed(f"the nursery is gone ({error}): {self.stderr_tail()}") from None
        if not answer:
            raise NurseryFailed(f"the nursery ended: {self.stderr_tail() or 'no reason given'}")
        fields = json.loads(answer)
        if "error" in fields:
            raise NurseryFailed(f"the nursery refused the box: {fields['error']}")
        inner = int(fields["pid"])
        self.boxes += 1
        for child in _children(self.host_pid):
            if _innermost_pid(child) != inner:
                continue
            with contextlib.suppress(OSError):
                box = BoxProcess(child)
                # Still the nursery's child once held by its pidfd: not a reused pid.
                if child in _children(self.host_pid) and _innermost_pid(child) == inner:
                    return box
                box.close()
        raise NurseryFailed(f"the nursery's child {inner} ended before it started")

    def kill(self) -> None:
        # Its boxes die with it: each is killed when its parent, the nursery, ends
        # (PR_SET_PDEATHSIG), and with bubblewrap's PID namespace.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(OSError, TimeoutError):
            self.cgroup.kill()
        with contextlib.suppress(Exception):
            self.process.wait(timeout=10)

    def discard(self) -> None:
        self.kill()
        with contextlib.suppress(OSError):
            self.control.close()
        with contextlib.suppress(OSError, TimeoutError):
            self.cgroup.remove()
        shutil.rmtree(self.folder, ignore_errors=True)
        shutil.rmtree(self.private, ignore_errors=True)
