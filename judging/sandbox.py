"""Starting the sandbox that runs student code: bubblewrap, kept warm.

A sandbox has new user, PID, network, IPC, UTS and cgroup namespaces, no
capabilities, the system's libraries and this Python read-only, the job's
inputs read-only at /job/input, a read-only root and /dev, and size-capped
tmpfs mounts as the only writable places, so nothing a student writes lands on
the worker's disk or grows without bound in memory.

bubblewrap is started by the worker's user (root here), and inside the user
namespace the student maps back to that user: so nothing secret is bound in at
all (no /etc, no /root, no artifact store, no ppipe source).

Warm and reused: importing numpy, pandas and scikit-learn costs about a second
of CPU. A sandbox's zygote (sandbox_runner.py) imports them once and then runs
up to PPIPE_SANDBOX_JOBS jobs, one after another, each forked fresh into its
own namespaces with its own /tmp and /dev/shm, and everything it started killed
before the next (tests/test_judge_sandbox_isolation.py holds it to that). A
worker process keeps its sandbox between jobs; one that misbehaved, grew old or
ran its jobs is thrown away and a new one started while the worker is idle.
"""

from __future__ import annotations

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

RUNNER = Path(__file__).with_name("sandbox_runner.py")
_REPORT_LIMIT = 256 * 2**20
_MAX_AGE_SECONDS = 3600.0
# Paths inside the sandbox: its own tmpfs, not the worker's /tmp.
SANDBOX_TMP = "/tmp"  # noqa: S108
SANDBOX_OUT = f"{SANDBOX_TMP}/ppipe-out"


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
    # Seconds the worker waits beyond the job's wall limit before it kills the sandbox.
    grace_seconds: float = 10.0
    # Jobs one sandbox runs (each isolated from the others) before it is replaced.
    jobs_per_sandbox: int = 100
    work_root: str = field(default_factory=tempfile.gettempdir)


def _prefixes() -> list[str]:
    """The interpreter and the virtualenv, bound at the same paths so the venv resolves."""
    return sorted({sys.base_prefix, sys.prefix})


def _below_sandbox_tmp() -> list[str]:
    """Bound paths below /tmp (a virtualenv in a clone there): each job's own /tmp
    would hide them, so the runner binds them again on top of it."""
    return [prefix for prefix in _prefixes() if prefix.startswith(f"{SANDBOX_TMP}/")]


def _read_only_system() -> list[str]:
    binds = ["--ro-bind", "/usr", "/usr"]
    for link in ("bin", "lib", "lib64", "sbin"):
        path = Path("/") / link
        if path.is_symlink():
            binds += ["--symlink", os.readlink(path), f"/{link}"]
        elif path.is_dir():
            binds += ["--ro-bind", str(path), f"/{link}"]
    for prefix in _prefixes():
        if not prefix.startswith("/usr"):
            binds += ["--ro-bind", prefix, prefix]
    return binds


def bwrap_command(config: SandboxConfig, input_dir: Path, threads: int) -> list[str]:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": SANDBOX_TMP,
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        **{
            name: str(threads)
            for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
        },
    }
    command = [
        config.bwrap,
        "--unshare-all",
        "--uid",
        "65534",
        "--gid",
        "65534",
        "--hostname",
        "sandbox",
        "--cap-drop",
        "ALL",
        "--die-with-parent",
        "--new-session",
        "--clearenv",
        # The tmpfs first: a virtualenv below /tmp (a fresh clone there) is then
        # bound on top of it instead of being hidden by it.
        "--size",
        str(config.tmpfs_mb * 2**20),
        "--tmpfs",
        SANDBOX_TMP,
        *_read_only_system(),
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        "--ro-bind",
        str(input_dir),
        "/job/input",
        "--ro-bind",
        str(RUNNER),
        "/job/runner.py",
        "--dir",
        "/job/hold",
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
    return [*command, "--", *runner]


def _unsandboxed_command(input_dir: Path) -> list[str]:
    # PPIPE_SANDBOX=none, for trusted code only: the same supervisor and rlimits,
    # with a private folder next to the inputs as its scratch space.
    return [sys.executable, "-I", "-B", str(RUNNER), str(input_dir), str(input_dir) + "-out"]


# bubblewrap itself starts with nothing of the worker's environment: no broker
# URL with its password, no preloaded library (a host's clock tool, say) that
# would follow it into the sandbox and break there.
_LAUNCHER_ENV = {"PATH": "/usr/bin:/bin"}


def check_bwrap(config: SandboxConfig) -> None:
    """Raise SandboxUnavailable unless bubblewrap runs here."""
    if not Path(config.bwrap).is_file():
        raise SandboxUnavailable(f"bubblewrap is not installed ({config.bwrap} is missing)")
    probe = [config.bwrap, "--unshare-all", "--die-with-parent", *_read_only_system()]
    probe += ["--", "/usr/bin/true"]
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


@dataclass
class Sandbox:
    """One started sandbox: its zygote's process and the host folder at /job/input."""

    process: subprocess.Popen[bytes]
    input_dir: Path
    config: SandboxConfig
    threads: int
    stderr_path: Path
    started_at: float = field(default_factory=time.monotonic)
    jobs: int = 0

    @classmethod
    def start(cls, config: SandboxConfig, threads: int) -> Sandbox:
        input_dir = Path(tempfile.mkdtemp(prefix="ppipe-judge-", dir=config.work_root))
        input_dir.chmod(0o755)
        unsandboxed = config.mode == "none"
        command = (
            _unsandboxed_command(input_dir)
            if unsandboxed
            else bwrap_command(config, input_dir, threads)
        )
        thread_env = {
            name: str(threads)
            for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
        }
        stderr_path = Path(f"{input_dir}.stderr")
        with stderr_path.open("wb") as stderr:
            process = subprocess.Popen(
                command,
                env={**os.environ, **thread_env} if unsandboxed else _LAUNCHER_ENV,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=stderr,
                start_new_session=True,
            )
        return cls(
            process=process,
            input_dir=input_dir,
            config=config,
            threads=threads,
            stderr_path=stderr_path,
        )

    def usable_for(self, config: SandboxConfig, threads: int) -> bool:
        return (
            self.config == config
            and self.threads == threads
            and self.process.poll() is None
            and self.jobs < config.jobs_per_sandbox
            and time.monotonic() - self.started_at < _MAX_AGE_SECONDS
        )

    def _stderr_tail(self) -> str:
        try:
            return self.stderr_path.read_bytes()[-2000:].decode(errors="replace")
        except OSError:
            return ""

    def _read_line(self, deadline: float) -> bytes | None:
        """One line from the zygote, or None if it ends, overflows or the deadline passes."""
        stream = self.process.stdout
        assert stream is not None
        chunks: list[bytes] = []
        size = 0
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([stream], [], [], left)[0]:
                return None
            chunk = os.read(stream.fileno(), 1 << 20)
            if not chunk:
                return None
            end = chunk.find(b"\n")
            if end >= 0:
                chunks.append(chunk[:end])
                return b"".join(chunks)
            chunks.append(chunk)
            size += len(chunk)
            if size > _REPORT_LIMIT:
                return None

    def run(self, spec: dict[str, Any], wall_seconds: float) -> tuple[dict[str, Any] | None, str]:
        """Send one job and wait for its report; (report, why there is none)."""
        self.jobs += 1
        spec = {
            **spec,
            "isolate": self.config.mode != "none",
            "tmpfs_mb": self.config.tmpfs_mb,
        }
        assert self.process.stdin is not None
        try:
            self.process.stdin.write((json.dumps(spec) + "\n").encode())
            self.process.stdin.flush()
        except OSError:
            return None, f"the sandbox is gone: {self._stderr_tail()}"
        line = self._read_line(time.monotonic() + wall_seconds + self.config.grace_seconds)
        if line is None:
            if self.process.poll() is None:
                self.kill()
                return None, "the sandbox did not answer within its wall-clock limit"
            return None, self._stderr_tail() or "the sandbox ended"
        try:
            report = json.loads(line)
        except ValueError:
            return None, "the sandbox's report is not JSON"
        if not isinstance(report, dict) or "error" in report:
            return None, str(report.get("error") if isinstance(report, dict) else report)
        return report, ""

    def clear_inputs(self) -> None:
        """Empty /job/input for the next job (the folder itself stays bound)."""
        for entry in self.input_dir.iterdir():
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(Exception):
            self.process.wait(timeout=10)

    def discard(self) -> None:
        self.kill()
        for stream in (self.process.stdin, self.process.stdout):
            with contextlib.suppress(Exception):
                if stream is not None:
                    stream.close()
        shutil.rmtree(self.input_dir, ignore_errors=True)
        shutil.rmtree(str(self.input_dir) + "-out", ignore_errors=True)
        self.stderr_path.unlink(missing_ok=True)


_spare: Sandbox | None = None


def sandbox_take(config: SandboxConfig, threads: int) -> Sandbox:
    """A started sandbox for one job: this worker's own if it fits, else a new one."""
    global _spare
    spare, _spare = _spare, None
    if spare is not None and spare.usable_for(config, threads):
        return spare
    if spare is not None:
        spare.discard()
    return Sandbox.start(config, threads)


def sandbox_release(box: Sandbox, *, healthy: bool) -> None:
    """After a job: keep a healthy sandbox for the next one, else replace it now,
    while the worker is idle."""
    global _spare
    if healthy and box.usable_for(box.config, box.threads):
        try:
            box.clear_inputs()
        except OSError:
            healthy = False
        else:
            _spare = box
            return
    box.discard()
    sandbox_prewarm(box.config, box.threads)


def sandbox_prewarm(config: SandboxConfig, threads: int) -> None:
    """Start the next job's sandbox now, while this worker is idle."""
    global _spare
    if config.prewarm and _spare is None:
        _spare = Sandbox.start(config, threads)
