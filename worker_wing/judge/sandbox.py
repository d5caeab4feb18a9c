"""Starting the sandbox that runs student code, and watching it from outside.

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
import pwd
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
from worker_wing.judge.job_cgroup import CgroupUnavailable, SandboxCgroup, cgroup_problem
from worker_wing.judge.sandbox_runner import READY
from worker_wing.judge.seccomp_policy import sandbox_filter_bpf, student_filter_bpf

RUNNER = Path(__file__).with_name("sandbox_runner.py")
_MAX_AGE_SECONDS = 3600.0
# How long a new sandbox may take to import its libraries (about a second idle).
_START_SECONDS = 120.0
# Paths inside the sandbox: its own tmpfs, not the worker's /tmp.
SANDBOX_TMP = "/tmp"  # noqa: S108
SANDBOX_OUT = f"{SANDBOX_TMP}/ppipe-out"
# How often the worker reads the cgroup while a job runs.
SAMPLE_SECONDS = 0.02
# The zygote and the supervisor's own tasks, beyond the student's processes.
_OWN_TASKS = 8
# Before the first job: room for the zygote's imports.
_START_MEMORY_BYTES = 2 * 2**30
# What the report of a job may hold beyond its two binary files (the
# predictions and the model, each at most the job's file limit).
_REPORT_BASE_BYTES = 16 * 2**20
# Its structure: the runner's report nests 8 deep and holds a few thousand values.
REPORT_MAX_DEPTH = 24
REPORT_MAX_ITEMS = 200_000
THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


class SandboxUnavailable(RuntimeError):
    """This worker cannot sandbox student code; the message says why and what to do."""


@dataclass(frozen=True)
class SandboxConfig:
    # "bwrap", or "none" to run without bubblewrap (trusted code only).
    mode: str = "bwrap"
    prewarm: bool = True
    bwrap: str = "/usr/bin/bwrap"
    # The writable tmpfs of a sandbox; it holds the student's outputs and logs.
    tmpfs_mb: int = 512
    # Jobs one sandbox runs (each isolated from the others) before it is replaced.
    jobs_per_sandbox: int = 100
    work_root: str = field(default_factory=tempfile.gettempdir)
    # The host user student code runs as when the worker is root.
    user: str = "ppipe-sandbox"
    # The cgroup below which sandboxes get theirs; "" is the worker's own.
    cgroup_root: str = ""


def sandbox_ids(config: SandboxConfig) -> tuple[int, int]:
    """The host uid and gid student code runs as; never 0."""
    if os.geteuid() != 0:
        return os.getuid(), os.getgid()
    try:
        entry = pwd.getpwnam(config.user) if not config.user.isdigit() else None
    except KeyError:
        raise SandboxUnavailable(
            f"the sandbox user {config.user!r} does not exist: create it with "
            "`useradd --system --user-group --no-create-home --home-dir /nonexistent "
            f"--shell /usr/sbin/nologin {config.user}` "
            "(make setup does), or name another in PPIPE_SANDBOX_USER"
        ) from None
    uid, gid = (entry.pw_uid, entry.pw_gid) if entry else (int(config.user), int(config.user))
    if uid == 0 or gid == 0:
        raise SandboxUnavailable(f"the sandbox user {config.user!r} must not be root")
    return uid, gid


def _prefixes() -> list[str]:
    """The interpreter and the virtualenv, bound at the same paths so the venv resolves."""
    return sorted({sys.base_prefix, sys.prefix})


def _below_sandbox_tmp() -> list[str]:
    """Bound paths below /tmp (a virtualenv in a clone there): each job's own /tmp
    would hide them, so the runner binds them again on top of it."""
    return [prefix for prefix in _prefixes() if prefix.startswith(f"{SANDBOX_TMP}/")]


def _open_parents(path: str) -> list[str]:
    """Folders above a bind, made traversable: bubblewrap makes them root's alone,
    which the sandbox user could not pass through."""
    made: list[str] = []
    for parent in reversed(Path(path).parents[:-1]):
        if str(parent) != SANDBOX_TMP:  # the sandbox's tmpfs, writable by its user
            made += ["--perms", "0755", "--dir", str(parent)]
    return made


def read_only_system() -> list[str]:
    binds = ["--ro-bind", "/usr", "/usr"]
    for link in ("bin", "lib", "lib64", "sbin"):
        path = Path("/") / link
        if path.is_symlink():
            binds += ["--symlink", os.readlink(path), f"/{link}"]
        elif path.is_dir():
            binds += ["--ro-bind", str(path), f"/{link}"]
    for prefix in _prefixes():
        if not prefix.startswith("/usr"):
            binds += [*_open_parents(prefix), "--ro-bind", prefix, prefix]
    return binds


def _namespaces() -> list[str]:
    shared = ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts"]
    shared.append("--unshare-cgroup")
    # As root, no user namespace: inside it root would be host root; setpriv drops
    # to the sandbox user instead. Otherwise bubblewrap needs one to mount anything.
    return shared if os.geteuid() == 0 else ["--unshare-user", *shared]


def _drop_to(uid: int, gid: int) -> list[str]:
    if os.geteuid() != 0:
        return []
    return [
        "/usr/bin/setpriv",
        f"--reuid={uid}",
        f"--regid={gid}",
        "--clear-groups",
        "--bounding-set=-all",
        "--inh-caps=-all",
        "--no-new-privs",
    ]


def bwrap_command(
    config: SandboxConfig, input_dir: Path, threads: int, seccomp_fd: int
) -> list[str]:
    uid, gid = sandbox_ids(config)
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": SANDBOX_TMP,
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        **{name: str(threads) for name in THREAD_VARIABLES},
    }
    command = [
        config.bwrap,
        *_namespaces(),
        "--hostname",
        "sandbox",
        # As root, setpriv needs CAP_SETUID to drop to the sandbox user, and then
        # clears every capability set itself; otherwise none is kept.
        *(["--cap-drop", "ALL"] if os.geteuid() != 0 else []),
        "--die-with-parent",
        "--new-session",
        "--clearenv",
        "--seccomp",
        str(seccomp_fd),
        # The tmpfs first: a virtualenv below /tmp (a fresh clone there) is then
        # bound on top of it instead of being hidden by it.
        "--size",
        str(config.tmpfs_mb * 2**20),
        # bubblewrap, as root, makes it root's: the sandbox user must write in it.
        "--perms",
        "1777",
        "--tmpfs",
        SANDBOX_TMP,
        *read_only_system(),
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        *_open_parents("/job/input"),
        "--ro-bind",
        str(input_dir),
        "/job/input",
        "--ro-bind",
        str(RUNNER),
        "/job/runner.py",
        "--dir",
        "/job/hold",
        "--dir",
        "/job/fold",
        # bubblewrap's root and /dev are tmpfs mounts without a size: read-only, or a
        # student could fill the machine's memory with files there.
        "--remount-ro",
        "/dev",
        "--remount-ro",
        "/",
        "--chdir",
        SANDBOX_TMP,
    ]
    for name, value in env.items():
        command += ["--setenv", name, value]
    runner = [sys.executable, "-I", "-B", "/job/runner.py", "/job/input", SANDBOX_OUT]
    runner += _below_sandbox_tmp()
    return [*command, "--", *_drop_to(uid, gid), *runner]


def _unsandboxed_command(input_dir: Path) -> list[str]:
    # PPIPE_SANDBOX=none, for trusted code only: the same supervisor and cgroup,
    # with a private folder next to the inputs as its scratch space.
    return [sys.executable, "-I", "-B", str(RUNNER), str(input_dir), str(input_dir) + "-out"]


# Joins the cgroup named by each file up to "--", then becomes the command: every
# process of the sandbox is then in its cgroup from its first instruction.
_JOIN_CGROUP = 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift; exec "$@"'

# bubblewrap itself starts with nothing of the worker's environment: no broker
# URL with its password, no preloaded library (a host's clock tool, say) that
# would follow it into the sandbox and break there.
_LAUNCHER_ENV = {"PATH": "/usr/bin:/bin"}


def check_bwrap(config: SandboxConfig) -> None:
    """Raise SandboxUnavailable unless bubblewrap, the sandbox user and cgroups work here."""
    if not Path(config.bwrap).is_file():
        raise SandboxUnavailable(f"bubblewrap is not installed ({config.bwrap} is missing)")
    uid, gid = sandbox_ids(config)
    problem = cgroup_problem(config.cgroup_root)
    if problem:
        raise SandboxUnavailable(
            f"the kernel cannot bound a sandbox's memory, processes and CPU here: {problem}"
        )
    probe = [config.bwrap, *_namespaces(), "--die-with-parent", *read_only_system()]
    probe += ["--", *_drop_to(uid, gid), "/usr/bin/true"]
    try:
        done = subprocess.run(
            probe, capture_output=True, timeout=30, check=False, env=_LAUNCHER_ENV
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise SandboxUnavailable(f"bubblewrap does not start: {error}") from None
    if done.returncode != 0:
        raise SandboxUnavailable(
            f"bubblewrap does not work here: {done.stderr.decode(errors='replace').strip()}"
        )


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
                command = bwrap_command(config, input_dir, threads, program.fileno())
                env = _LAUNCHER_ENV
            process = subprocess.Popen(
                [
                    "/bin/sh",
                    "-c",
                    _JOIN_CGROUP,
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
