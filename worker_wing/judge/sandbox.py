"""The boxes that run student code, one participant's each, and watching them from
outside. A box is a fork of the worker process's nursery (worker_wing/judge/nursery.py;
its bubblewrap command: worker_wing/judge/sandbox_command.py).

The judge worker (root) starts the nursery under bubblewrap as root, without a
user namespace, so that bubblewrap can bind what it needs whatever the host's
permissions; before Python starts, `setpriv` drops to an unprivileged host user
that owns nothing (`ppipe-sandbox`), with no capabilities and no way back. The
student's code therefore runs as that user by the kernel's own checks:
`/proc/sys`, other processes and the host's files are out of its reach. A
worker that is not root runs bubblewrap in a user namespace of its own user
instead. The nursery sees the system's libraries and this Python read-only, a
read-only root and /dev, the host folder of its boxes' inputs read-only at
/job/boxes, no network and no secret, behind a seccomp filter
(worker_wing/judge/seccomp_policy.py); it imports and warms the libraries once
and never runs a job.

Boxes are cheap (tens of milliseconds of CPU; importing numpy, pandas and
scikit-learn in each, as every sandbox once did, costs more than a second) and
each is as closed to the others as separate sandboxes were: it leaves the
nursery's namespaces for new user (its uid mapped to itself), mount, IPC,
network, UTS, cgroup and PID namespaces of its own, with its own /proc, a fresh
size-capped /tmp and /dev/shm, its own sub-folder of /job/boxes at /job/input
(read-only) and the rest of /job/boxes hidden, and then no capability at all
(runner_box.py). Killing a box kills nothing else; the nursery's death ends
every box (PR_SET_PDEATHSIG, and bubblewrap's PID namespace).

Each box lives in a cgroup of its own (worker_wing/judge/job_cgroup.py), which
the worker sets and reads from outside: memory (tmpfs pages included),
processes and CPU are bounded and measured by the kernel, where the student
cannot touch them. The worker moves the box into it before the box runs an
instruction of its own, samples it while a job runs, kills the whole box at a
limit, and keeps the samples so each fold's and step's figures come from them
(worker_wing/judge/outside_figures.py). Pages the box inherited from the nursery
stay charged to the nursery's cgroup: the worker adds what they weigh to the
figures and takes the nursery's charge off the job's memory limit, so that
both read as they did when a sandbox imported the libraries itself.

Reused by one participant only: a box runs up to PPIPE_SANDBOX_JOBS jobs of ONE
participant, each forked fresh from its zygote (sandbox_runner.py), with folds
isolated from each other (tests/test_judge_sandbox_isolation.py holds it to
that). A worker process keeps its nursery, started again while it is idle if it
died or aged, and the boxes of the last participants it judged (PPIPE_SANDBOX_KEPT,
least recently used dropped first): a participant coming back gets their own
box, warm; anybody else gets a new one. A class's students take turns, so one
kept box meant a new box for nearly every job: about 45 ms of the machine's CPU
outside the job each (bench/README.md, judge throughput).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import select
import shutil
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from worker_wing.bounded_json import ReportRejected, loads_bounded
from worker_wing.judge.job_cgroup import CgroupUnavailable, SandboxCgroup
from worker_wing.judge.nursery import (
    MAX_AGE_SECONDS,
    START_SECONDS,
    BoxProcess,
    Nursery,
    NurseryFailed,
    first_child,
)
from worker_wing.judge.runner_nursery import GO
from worker_wing.judge.sandbox_command import (
    SANDBOX_OUT,
    SandboxConfig,
    SandboxUnavailable,
)
from worker_wing.judge.sandbox_runner import READY
from worker_wing.judge.seccomp_policy import student_filter_bpf

RUNNER = Path(__file__).with_name("sandbox_runner.py")

# How often the worker reads the cgroup while a job runs.
SAMPLE_SECONDS = 0.02
# The box's own processes (its first process, its zygote, the job's supervisor and
# the fold's parent), beyond the student's.
_OWN_TASKS = 10
# Before the first job: room for the box to confine itself.
_START_MEMORY_BYTES = 512 * 2**20
# What the report of a job may hold beyond its two binary files (the
# predictions and the model, each at most the job's file limit).
_REPORT_BASE_BYTES = 16 * 2**20
# Its structure: the runner's report nests 8 deep and holds a few thousand values.
REPORT_MAX_DEPTH = 24
REPORT_MAX_ITEMS = 200_000


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
    """One participant's box: a fork of this worker process's nursery, in a cgroup of
    its own, with the host folder `input_dir` at its /job/input; `owner` is the one
    participant whose jobs it may run. Forked when its first job is run."""

    nursery: Nursery
    name: str
    cgroup: SandboxCgroup
    owner: str | None = None
    started_at: float = field(default_factory=time.monotonic)
    jobs: int = 0
    ready: bool = False
    # Its first process (and, confined, its zygote, PID 1 of its PID namespace).
    process: BoxProcess | None = None
    zygote: BoxProcess | None = None
    stdin: BinaryIO | None = None
    stdout: int = -1
    # What it inherited from the nursery uncharged (Nursery.inherited_bytes).
    inherited_bytes: int = 0
    # What the earlier parts of the job being run spent of its limits.
    _spent_cpu: float = 0.0
    _spent_wall: float = 0.0

    @property
    def config(self) -> SandboxConfig:
        return self.nursery.config

    @property
    def threads(self) -> int:
        return self.nursery.threads

    @property
    def input_dir(self) -> Path:
        return self.nursery.folder / self.name

    @property
    def stderr_path(self) -> Path:
        return self.nursery.private / f"{self.name}.stderr"

    @property
    def isolated(self) -> bool:
        return self.config.mode != "none"

    @classmethod
    def of(cls, nursery: Nursery) -> Sandbox:
        """A box of `nursery`, to be forked when its first job runs: its folder and cgroup."""
        name = f"box{nursery.boxes + 1}-{os.urandom(4).hex()}"
        (nursery.folder / name).mkdir(mode=0o755)
        (nursery.folder / name).chmod(0o755)
        try:
            cgroup = SandboxCgroup.create(
                f"{nursery.folder.name}-{name}", nursery.config.cgroup_root
            )
        except CgroupUnavailable as error:
            shutil.rmtree(nursery.folder / name, ignore_errors=True)
            raise SandboxUnavailable(str(error)) from None
        cgroup.limit(memory_bytes=_START_MEMORY_BYTES, pids=_OWN_TASKS + 64)
        return cls(nursery, name, cgroup)

    def usable_for(self, config: SandboxConfig, threads: int, owner: str) -> bool:
        return (
            self.nursery.usable_for(config, threads)
            and self.owner in (None, owner)
            and (self.process is None or self.process.poll() is None)
            and self.jobs < config.jobs_per_sandbox
            and time.monotonic() - self.started_at < MAX_AGE_SECONDS
        )

    def _stderr_tail(self) -> str:
        try:
            return self.stderr_path.read_bytes()[-2000:].decode(errors="replace")
        except OSError:
            return ""

    def _phase_now(self) -> str:
        """What the job was doing, read from the box's own /tmp through its zygote's root
        (the student's processes see a /tmp of their own instead)."""
        out = self.nursery.folder / f"{self.name}-out"
        if self.isolated:
            if self.zygote is None:
                return ""
            out = Path(f"/proc/{self.zygote.pid}/root{SANDBOX_OUT}")
        try:
            fd = os.open(out / "phase", os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except OSError:
            return ""
        with os.fdopen(fd, "rb") as handle:
            return handle.read(2000).decode(errors="replace")

    def _fork(self) -> None:
        """Have the nursery fork the box, move it into its cgroup, and let it go."""
        stdin_reader, stdin_writer = os.pipe()
        stdout_reader, stdout_writer = os.pipe()
        self.stdin, self.stdout = os.fdopen(stdin_writer, "wb"), stdout_reader
        with self.stderr_path.open("wb") as stderr:
            try:
                self.process = self.nursery.fork_box(
                    self.name,
                    isolate=self.isolated,
                    fds=[stdin_reader, stdout_writer, stderr.fileno()],
                )
            finally:
                os.close(stdin_reader)
                os.close(stdout_writer)
        # Before the box does anything of its own: from here on, all it does is charged
        # to its cgroup, none of it to the nursery's.
        self.cgroup.add(self.process.pid)
        self.stdin.write(GO)
        self.stdin.flush()

    def _await_ready(self) -> str:
        """Fork the box and wait until it is confined, so that nothing of that is charged
        to the first job; why it never got ready, or ""."""
        problem = self.nursery.await_ready()
        if problem:
            return f"the sandbox did not start: {problem}"
        try:
            self._fork()
        except (NurseryFailed, OSError, ValueError) as error:
            self.kill()
            return f"the sandbox did not start: {error}"
        answered = select.select([self.stdout], [], [], START_SECONDS)[0]
        if answered and os.read(self.stdout, len(READY)) == READY:
            self.ready = True
            self.inherited_bytes = self.nursery.inherited_bytes
            assert self.process is not None
            if self.isolated:
                zygote = first_child(self.process.pid)
                with contextlib.suppress(OSError):
                    self.zygote = BoxProcess(zygote) if zygote else None
            return ""
        self.kill()
        reason = self._stderr_tail().strip() or self.nursery.stderr_tail().strip()
        return f"the sandbox did not start: {reason or 'no answer'}"

    def _limit_reason(self, limits: dict[str, Any], cpu: float, started: float) -> str:
        # A job run in several parts (a resource sweep's core counts) has one budget.
        cpu += self._spent_cpu
        started -= self._spent_wall
        if self.cgroup.out_of_memory():
            return f"memory limit of {limits['memory_mb']} MB exceeded"
        if cpu > float(limits["cpu_seconds"]) + 0.5:
            return f"CPU time limit of {limits['cpu_seconds']} s exceeded"
        if time.monotonic() - started > float(limits["wall_seconds"]):
            return f"wall-clock limit of {limits['wall_seconds']} s exceeded"
        return ""

    def _limit_memory(self, limits: dict[str, Any]) -> bool:
        """The job's memory limit on the box's cgroup, less what the nursery's cgroup holds
        for it (as a sandbox that imported the libraries itself held it in its own);
        False when that leaves nothing."""
        budget = int(limits["memory_mb"]) * 2**20 - self.nursery.inherited_charge
        if budget <= self.cgroup.memory_bytes():
            return False
        try:
            self.cgroup.limit(
                memory_bytes=budget,
                pids=len(self.cgroup.pids()) + _OWN_TASKS + int(limits["processes"]),
            )
        except OSError:  # below what the box already holds
            return False
        return True

    def run(
        self,
        spec: dict[str, Any],
        owner: str,
        *,
        cores: int | None = None,
        spent: tuple[float, float] = (0.0, 0.0),
    ) -> JobRun:
        """Send one job, watch its cgroup until its report comes, and stop it at a limit.

        `cores`: the box's cgroup is confined to that many CPUs' time for this run (None:
        not confined). `spent`: the CPU and wall seconds earlier parts of the same job
        took, counted against its limits."""
        self.jobs += 1
        self.owner = owner
        self._spent_cpu, self._spent_wall = spent
        limits = spec["limits"]
        spec = {
            **spec,
            "isolate": self.isolated,
            "tmpfs_mb": self.config.tmpfs_mb,
            "student_seccomp": (
                base64.b64encode(student_filter_bpf()).decode() if self.isolated else ""
            ),
        }
        if not self.ready:
            trouble = self._await_ready()
            if trouble:
                return JobRun(None, trouble=trouble)
        if not self._limit_memory(limits):
            return JobRun(None, killed_for=f"memory limit of {limits['memory_mb']} MB exceeded")
        try:
            self.cgroup.limit_cpus(cores)
        except (OSError, CgroupUnavailable) as error:
            return JobRun(None, trouble=f"the sandbox's CPUs could not be confined: {error}")
        self.cgroup.start_job()
        assert self.stdin is not None
        started = time.monotonic()
        try:
            self.stdin.write((json.dumps(spec) + "\n").encode())
            self.stdin.flush()
        except OSError:
            return JobRun(None, trouble=f"the sandbox is gone: {self._stderr_tail()}")
        run = JobRun(None)
        line = self._watch(limits, started, run)
        run.wall_seconds = time.monotonic() - started
        run.cpu_seconds = self.cgroup.cpu_seconds()
        run.peak_memory_mb = (self.cgroup.peak_memory_bytes() + self.inherited_bytes) / 2**20
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
        chunks: list[bytes] = []
        size, cap = 0, _report_limit(limits)
        while True:
            cpu = self.cgroup.cpu_seconds()
            memory = self.cgroup.memory_bytes() + self.inherited_bytes
            run.samples.append(Sample(time.monotonic(), cpu, memory))
            run.killed_for = self._limit_reason(limits, cpu, started)
            if run.killed_for:
                run.phase = self._phase_now()
                self.kill()
                return None
            if not select.select([self.stdout], [], [], SAMPLE_SECONDS)[0]:
                continue
            chunk = os.read(self.stdout, 1 << 20)
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
        """Kill every process of the box; the nursery and the other boxes go on. Returns
        once the nursery has reaped it."""
        # The cgroup holds every process of the box, whatever it forked; its first
        # process is killed by its pidfd too, should the worker have failed to move it.
        with contextlib.suppress(OSError, TimeoutError):  # a process stuck in the kernel
            self.cgroup.kill()
        for process in (self.process, self.zygote):
            if process is not None:
                process.kill()
                # Its reaper is the nursery; a dead nursery's orphans may never be reaped.
                if self.nursery.process.poll() is None:
                    with contextlib.suppress(TimeoutError):
                        process.wait_reaped(10)

    def discard(self) -> None:
        self.kill()
        if self.stdin is not None:
            with contextlib.suppress(OSError):
                self.stdin.close()
        if self.stdout >= 0:
            with contextlib.suppress(OSError):
                os.close(self.stdout)
            self.stdout = -1
        for process in (self.process, self.zygote):
            if process is not None:
                process.close()
        with contextlib.suppress(OSError, TimeoutError):
            self.cgroup.remove()
        shutil.rmtree(self.input_dir, ignore_errors=True)
        shutil.rmtree(self.nursery.folder / f"{self.name}-out", ignore_errors=True)
        self.stderr_path.unlink(missing_ok=True)


# This worker process's nursery, and the boxes of the participants it judged last,
# least recently used first, each kept for its own participant's next job only.
_nursery: Nursery | None = None
_kept: OrderedDict[str, Sandbox] = OrderedDict()


def kept_box(owner: str) -> Sandbox | None:
    """The box kept for `owner`'s next job, if any."""
    return _kept.get(owner)


def kept_boxes() -> list[Sandbox]:
    """Every box kept, least recently used first."""
    return list(_kept.values())


def _discard_kept(nursery: Nursery) -> None:
    """Discard the kept boxes forked from `nursery`."""
    for owner, box in list(_kept.items()):
        if box.nursery is nursery:
            del _kept[owner]
            box.discard()


def _nursery_for(config: SandboxConfig, threads: int) -> Nursery:
    """The running nursery, or a new one if it does not fit, died or aged (its boxes go
    with it)."""
    global _nursery
    if _nursery is not None and not _nursery.usable_for(config, threads):
        _discard_kept(_nursery)
        _nursery.discard()
        _nursery = None
    if _nursery is None:
        _nursery = Nursery.start(config, threads, RUNNER)
    return _nursery


def sandbox_take(config: SandboxConfig, threads: int, owner: str) -> Sandbox:
    """A box for one job of `owner`: the one kept for them if it still fits, else a new
    one forked from the nursery. Never one another participant used."""
    box = _kept.pop(owner, None)
    if box is not None:
        if box.usable_for(config, threads, owner):
            return box
        box.discard()
    return Sandbox.of(_nursery_for(config, threads))


def sandbox_release(box: Sandbox, *, healthy: bool) -> None:
    """After a job: keep a healthy box for its participant's next job, dropping the
    least recently used beyond the configured number, else discard it; then start the
    nursery if it is gone."""
    if healthy and box.owner is not None and box.usable_for(box.config, box.threads, box.owner):
        try:
            box.clear_inputs()
        except OSError:
            box.discard()
        else:
            _kept[box.owner] = box
            while len(_kept) > box.config.kept_boxes:
                _kept.popitem(last=False)[1].discard()
    else:
        box.discard()
    sandbox_prewarm(box.config, box.threads)


def sandbox_prewarm(config: SandboxConfig, threads: int) -> None:
    """Start the nursery now (importing the libraries), while this worker is idle."""
    if config.prewarm:
        _nursery_for(config, threads)
