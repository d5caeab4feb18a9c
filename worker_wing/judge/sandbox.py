"""Starting the sandbox that runs student code, and watching it from outside
(the bubblewrap command it is started with: worker_wing/judge/sandbox_command.py).

The judge worker (root) starts bubblewrap as root, without a user namespace, so
that bubblewrap can bind what it needs whatever the host's permissions; before
Python starts, `setpriv` drops to an unprivileged host user that owns nothing
(`ppipe-sandbox`), with no capabilities and no way back. The student's code
therefore runs as that user by the kernel's own checks: `/proc/sys`, other
processes and the host's files are out of its reach. A worker that is not root
runs bubblewrap in a user namespace of its own user instead.

A sandbox has new PID, network, IPC, UTS and cgroup namespaces, a seccomp
filter (worker_wing/judge/seccomp_policy.py), the system's libraries and this Python
read-only, the job's inputs read-only at /job/input, a read-only root and /dev,
and size-capped tmpfs mounts as the only writable places.

Each sandbox lives in a cgroup of its own (worker_wing/judge/job_cgroup.py), which the
worker sets and reads from outside: memory (tmpfs pages included), processes
and CPU are bounded and measured by the kernel, where the student cannot touch
them. The worker samples the cgroup while a job runs, kills the whole sandbox
at a limit, and keeps the samples so each fold's and step's figures come from
them (worker_wing/judge/outside_figures.py).

Warm and reused, by one participant only: importing numpy, pandas and
scikit-learn costs about a second of CPU. A sandbox's zygote (sandbox_runner.py)
imports them once, then runs up to PPIPE_SANDBOX_JOBS jobs of ONE participant,
each forked fresh (tests/test_judge_sandbox_isolation.py holds it to that). A
worker process keeps one sandbox for the participant it judged last and one
spare, started while it is idle, for anybody else.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from worker_wing.bounded_json import ReportRejected, loads_bounded
from worker_wing.judge.job_cgroup import CgroupUnavailable, SandboxCgroup
from worker_wing.judge.sandbox_command import (
    JOIN_CGROUP,
    LAUNCHER_ENV,
    SANDBOX_OUT,
    THREAD_VARIABLES,
    SandboxConfig,
    SandboxUnavailable,
    bwrap_command,
)
from worker_wing.judge.sandbox_runner import READY
from worker_wing.judge.seccomp_policy import sandbox_filter_bpf, student_filter_bpf

RUNNER = Path(__file__).with_name("sandbox_runner.py")
_MAX_AGE_SECONDS = 3600.0
# How long a new sandbox may take to import its libraries (about a second idle).
_START_SECONDS = 120.0
# How often the worker reads the cgroup while a job runs.
SAMPLE_SECONDS = 0.02
# The zygote and the supervisor's own tasks, beyond the student's processes (the
# zygote's warm-up leaves two of pyarrow's I/O threads in it: runner_warm.py).
_OWN_TASKS = 10
# Before the first job: room for the zygote's imports.
_START_MEMORY_BYTES = 2 * 2**30
# What the report of a job may hold beyond its two binary files (the
# predictions and the model, each at most the job's file limit).
_REPORT_BASE_BYTES = 16 * 2**20
# Its structure: the runner's report nests 8 deep and holds a few thousand values.
REPORT_MAX_DEPTH = 24
REPORT_MAX_ITEMS = 200_000


def _unsandboxed_command(input_dir: Path) -> list[str]:
    # PPIPE_SANDBOX=none, for trusted code only: the same supervisor and cgroup,
    # with a private folder next to the inputs as its scratch space.
    return [sys.executable, "-I", "-B", str(RUNNER), str(input_dir), str(input_dir) + "-out"]


@dataclass(frozen=True)
class Sample:
    """The sandbox's cgroup at one moment: CPU seconds of the job so far, memory now."""

    at: float
    cpu_seconds: float
    memory_bytes: int


@dataclass
class JobRun:
    """What one job gave: the runner's report (or why there is none), and what the
    worker measured of it from outside."""

    report: dict[str, Any] | None
    trouble: str = ""
    # Set when the report was refused unread (too large, too deep): the job fails.
    refused: str = ""
    # Set when the worker stopped the job at a limit: the reason, for the student.
    killed_for: str = ""
    phase: str = ""
    cpu_seconds: float = 0.0
    peak_memory_mb: float = 0.0
    wall_seconds: float = 0.0
    processes_refused: bool = False
    samples: list[Sample] = field(default_factory=list)


def _report_limit(limits: dict[str, Any]) -> int:
    # base64 grows the two files by a third.
    return _REPORT_BASE_BYTES + 3 * int(limits["file_mb"]) * 2**20


@dataclass
class Sandbox:
    """One started sandbox: its zygote's process, its cgroup and the host folder at
    /job/input; `owner` is the one participant whose jobs it may run."""

    process: subprocess.Popen[bytes]
    input_dir: Path
    config: SandboxConfig
    threads: int
    stderr_path: Path
    cgroup: SandboxCgroup
    owner: str | None = None
    started_at: float = field(default_factory=time.monotonic)
    jobs: int = 0
    ready: bool = False
    # Library pages the zygote maps that its cgroup was not charged for (another
    # process read them first): a bare Python's resident memory counts them, so
    # the memory figures do too, for comparable numbers.
    library_bytes: int = 0

    @classmethod
    def start(cls, config: SandboxConfig, threads: int) -> Sandbox:
        input_dir = Path(tempfile.mkdtemp(prefix="ppipe-judge-", dir=config.work_root))
        input_dir.chmod(0o755)
        try:
            cgroup = SandboxCgroup.create(input_dir.name, config.cgroup_root)
        except CgroupUnavailable as error:
            shutil.rmtree(input_dir, ignore_errors=True)
            raise SandboxUnavailable(str(error)) from None
        cgroup.limit(memory_bytes=_START_MEMORY_BYTES, pids=_OWN_TASKS + 64)
        stderr_path = Path(f"{input_dir}.stderr")
        with tempfile.TemporaryFile() as program, stderr_path.open("wb") as stderr:
            program.write(sandbox_filter_bpf())
            program.seek(0)
            if config.mode == "none":
                command = _unsandboxed_command(input_dir)
                env = {**os.environ, **{name: str(threads) for name in THREAD_VARIABLES}}
            else:
                command = bwrap_command(config, input_dir, threads, program.fileno(), RUNNER)
                env = LAUNCHER_ENV
            process = subprocess.Popen(
                [
                    "/bin/sh",
                    "-c",
                    JOIN_CGROUP,
                    "ppipe-join",
                    *cgroup.procs_files(),
                    "--",
                    *command,
                ],
                env=env,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
                start_new_session=True,
                pass_fds=(program.fileno(),),
            )
        return cls(process, input_dir, config, threads, stderr_path, cgroup)

    def usable_for(self, config: SandboxConfig, threads: int, owner: str) -> bool:
        return (
            self.config == config
            and self.threads == threads
            and self.owner in (None, owner)
            and self.process.poll() is None
            and self.jobs < config.jobs_per_sandbox
            and time.monotonic() - self.started_at < _MAX_AGE_SECONDS
        )

    def _stderr_tail(self) -> str:
        try:
            return self.stderr_path.read_bytes()[-2000:].decode(errors="replace")
        except OSError:
            return ""

    def _phase_now(self) -> str:
        """What the job was doing, read from the sandbox's own /tmp through its first
        process's root (the student's processes see a /tmp of their own instead)."""
        out = Path(f"{self.input_dir}-out")
        if self.config.mode != "none":
            try:
                children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
                init = children.read_text().split()[0]
            except (OSError, IndexError):
                return ""
            out = Path(f"/proc/{init}/root{SANDBOX_OUT}")
        try:
            fd = os.open(out / "phase", os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            return ""
        with os.fdopen(fd, "rb") as handle:
            return handle.read(2000).decode(errors="replace")

    def _await_ready(self) -> str:
        """Wait for the zygote's imports, so that none of their CPU or memory is
        charged to the first job; why it never got ready, or ""."""
        stream = self.process.stdout
        assert stream is not None
        if select.select([stream], [], [], _START_SECONDS)[0]:
            line = os.read(stream.fileno(), len(READY))
            if line == READY:
                self.ready = True
                self.library_bytes = max(
                    0, self._zygote_file_bytes() - self.cgroup.mapped_file_bytes()
                )
                return ""
        self.kill()
        return f"the sandbox did not start: {self._stderr_tail() or 'no answer'}"

    def _zygote_file_bytes(self) -> int:
        """The zygote's resident file-backed memory (RssFile), the largest in the cgroup."""
        found = 0
        for pid in self.cgroup.pids():
            with contextlib.suppress(OSError, ValueError, IndexError):
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("RssFile:"):
                        found = max(found, int(line.split()[1]) * 1024)
        return found

    def _limit_reason(self, limits: dict[str, Any], cpu: float, started: float) -> str:
        if self.cgroup.out_of_memory():
            return f"memory limit of {limits['memory_mb']} MB exceeded"
        if cpu > float(limits["cpu_seconds"]) + 0.5:
            return f"CPU time limit of {limits['cpu_seconds']} s exceeded"
        if time.monotonic() - started > float(limits["wall_seconds"]):
            return f"wall-clock limit of {limits['wall_seconds']} s exceeded"
        return ""

    def run(self, spec: dict[str, Any], owner: str) -> JobRun:
        """Send one job, watch its cgroup until its report comes, and stop it at a limit."""
        self.jobs += 1
        self.owner = owner
        limits = spec["limits"]
        spec = {
            **spec,
            "isolate": self.config.mode != "none",
            "tmpfs_mb": self.config.tmpfs_mb,
            "student_seccomp": (
                base64.b64encode(student_filter_bpf()).decode()
                if self.config.mode != "none"
                else ""
            ),
        }
        if not self.ready:
            trouble = self._await_ready()
            if trouble:
                return JobRun(None, trouble=trouble)
        try:
            self.cgroup.limit(
                memory_bytes=int(limits["memory_mb"]) * 2**20,
                pids=len(self.cgroup.pids()) + _OWN_TASKS + int(limits["processes"]),
            )
        except OSError:  # below what the warm interpreter already holds
            return JobRun(None, killed_for=f"memory limit of {limits['memory_mb']} MB exceeded")
        self.cgroup.start_job()
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        started = time.monotonic()
        try:
            self.process.stdin.write((json.dumps(spec) + "\n").encode())
            self.process.stdin.flush()
        except OSError:
            return JobRun(None, trouble=f"the sandbox is gone: {self._stderr_tail()}")
        run = JobRun(None)
        line = self._watch(limits, started, run)
        run.wall_seconds = time.monotonic() - started
        run.cpu_seconds = self.cgroup.cpu_seconds()
        run.peak_memory_mb = (self.cgroup.peak_memory_bytes() + self.library_bytes) / 2**20
        run.processes_refused = self.cgroup.pids_refused()
        if not run.killed_for:
            # The last samples may have missed a limit passed just before the end.
            run.killed_for = self._limit_reason(limits, run.cpu_seconds, started)
            if run.killed_for:
                run.phase = self._phase_now()
                self.kill()
        if run.killed_for or line is None:
            if not (run.trouble or run.killed_for or run.refused):
                run.trouble = self._stderr_tail() or "the sandbox ended"
            return run
        try:
            report = loads_bounded(line, max_depth=REPORT_MAX_DEPTH, max_items=REPORT_MAX_ITEMS)
        except ReportRejected as error:
            self.kill()
            run.refused = f"the sandbox's report was refused: {error}"
            return run
        if not isinstance(report, dict) or "error" in report:
            run.trouble = str(report.get("error") if isinstance(report, dict) else report)
            return run
        run.report = report
        return run

    def _watch(self, limits: dict[str, Any], started: float, run: JobRun) -> bytes | None:
        """Sample the cgroup until the report's line arrives; None if the sandbox ended,
        overflowed or was stopped at a limit (then `run.killed_for` says which)."""
        stream = self.process.stdout
        assert stream is not None
        chunks: list[bytes] = []
        size, cap = 0, _report_limit(limits)
        while True:
            cpu = self.cgroup.cpu_seconds()
            memory = self.cgroup.memory_bytes() + self.library_bytes
            run.samples.append(Sample(time.monotonic(), cpu, memory))
            run.killed_for = self._limit_reason(limits, cpu, started)
            if run.killed_for:
                run.phase = self._phase_now()
                self.kill()
                return None
            if not select.select([stream], [], [], SAMPLE_SECONDS)[0]:
                continue
            chunk = os.read(stream.fileno(), 1 << 20)
            if not chunk:
                return None
            end = chunk.find(b"\n")
            if end >= 0:
                chunks.append(chunk[:end])
                return b"".join(chunks)
            chunks.append(chunk)
            size += len(chunk)
            if size > cap:
                self.kill()
                run.refused = f"the sandbox's report was refused: larger than {cap >> 20} MB"
                return None

    def clear_inputs(self) -> None:
        """Empty /job/input for the next job (the folder itself stays bound)."""
        for entry in self.input_dir.iterdir():
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()

    def kill(self) -> None:
        # The cgroup holds every process of the sandbox, whatever it forked or
        # however it left its session; the process group is bubblewrap's own.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(OSError, TimeoutError):  # a process stuck in the kernel
            self.cgroup.kill()
        with contextlib.suppress(Exception):
            self.process.wait(timeout=10)

    def discard(self) -> None:
        self.kill()
        for stream in (self.process.stdin, self.process.stdout):
            with contextlib.suppress(Exception):
                if stream is not None:
                    stream.close()
        with contextlib.suppress(OSError, TimeoutError):
            self.cgroup.remove()
        shutil.rmtree(self.input_dir, ignore_errors=True)
        shutil.rmtree(str(self.input_dir) + "-out", ignore_errors=True)
        self.stderr_path.unlink(missing_ok=True)


# This worker process's sandboxes: the one that ran the last participant's job,
# and a spare, started while idle, that nobody's code has touched yet.
_kept: Sandbox | None = None
_spare: Sandbox | None = None


def sandbox_take(config: SandboxConfig, threads: int, owner: str) -> Sandbox:
    """A started sandbox for one job of `owner`: the one they used last if it fits,
    else the untouched spare, else a new one. Never one another participant used."""
    global _kept, _spare
    if _kept is not None and _kept.usable_for(config, threads, owner) and _kept.owner == owner:
        box, _kept = _kept, None
        return box
    spare, _spare = _spare, None
    if spare is not None and spare.usable_for(config, threads, owner):
        return spare
    if spare is not None:
        spare.discard()
    return Sandbox.start(config, threads)


def sandbox_release(box: Sandbox, *, healthy: bool) -> None:
    """After a job: keep a healthy sandbox for its participant's next job (dropping
    the one kept for somebody else), else discard it; then start a spare while idle."""
    global _kept
    if healthy and box.owner is not None and box.usable_for(box.config, box.threads, box.owner):
        try:
            box.clear_inputs()
        except OSError:
            box.discard()
        else:
            if _kept is not None:
                _kept.discard()
            _kept = box
    else:
        box.discard()
    sandbox_prewarm(box.config, box.threads)


def sandbox_prewarm(config: SandboxConfig, threads: int) -> None:
    """Start the next participant's sandbox now, while this worker is idle."""
    global _spare
    if config.prewarm and _spare is None:
        _spare = Sandbox.start(config, threads)
