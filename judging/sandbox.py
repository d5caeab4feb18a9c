"""Starting the sandbox that runs student code: bubblewrap, kept warm.

Each sandbox runs exactly one job: new user, PID, network, IPC, UTS and cgroup
namespaces, no capabilities, the system's libraries and this Python read-only,
the job's inputs read-only at /job/input, and a size-capped tmpfs as the only
writable place, so nothing a student writes lands on the worker's disk.

bubblewrap is started by the worker's user (root here), and inside the user
namespace the student maps back to that user: so nothing secret is bound in at
all (no /etc, no /root, no artifact store, no ppipe source).

Warm start: importing numpy, pandas and scikit-learn costs about a second. A
worker process keeps one spare sandbox already started, its supervisor having
imported them, waiting on stdin for its job; the next spare starts as soon as
one is taken. A spare is a whole sandbox, used once, so jobs stay isolated.
"""

from __future__ import annotations

import contextlib
import json
import os
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
_SPARE_MAX_AGE = 600.0
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
    work_root: str = field(default_factory=tempfile.gettempdir)


def _read_only_system() -> list[str]:
    binds = ["--ro-bind", "/usr", "/usr"]
    for link in ("bin", "lib", "lib64", "sbin"):
        path = Path("/") / link
        if path.is_symlink():
            binds += ["--symlink", os.readlink(path), f"/{link}"]
        elif path.is_dir():
            binds += ["--ro-bind", str(path), f"/{link}"]
    # The interpreter and the virtualenv, at the same paths, so the venv resolves.
    for prefix in sorted({sys.base_prefix, sys.prefix}):
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
        "--chdir",
        SANDBOX_TMP,
    ]
    for name, value in env.items():
        command += ["--setenv", name, value]
    runner = [sys.executable, "-I", "-B", "/job/runner.py", "/job/input", SANDBOX_OUT]
    return [*command, "--", *runner]


def _unsandboxed_command(input_dir: Path) -> list[str]:
    # PPIPE_SANDBOX=none, for trusted code only: the same supervisor and rlimits,
    # with a private folder next to the inputs as its scratch space.
    return [sys.executable, "-I", "-B", str(RUNNER), str(input_dir), str(input_dir) + "-out"]


def check_bwrap(config: SandboxConfig) -> None:
    """Raise SandboxUnavailable unless bubblewrap runs here."""
    if not Path(config.bwrap).is_file():
        raise SandboxUnavailable(f"bubblewrap is not installed ({config.bwrap} is missing)")
    probe = [config.bwrap, "--unshare-all", "--die-with-parent", *_read_only_system()]
    probe += ["--", "/usr/bin/true"]
    try:
        done = subprocess.run(probe, capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise SandboxUnavailable(f"bubblewrap does not start: {error}") from None
    if done.returncode != 0:
        raise SandboxUnavailable(
            f"bubblewrap does not work here: {done.stderr.decode(errors='replace').strip()}"
        )


@dataclass
class Sandbox:
    """One started sandbox: its process and the host folder bound at /job/input."""

    process: subprocess.Popen[bytes]
    input_dir: Path
    config: SandboxConfig
    threads: int
    started_at: float = field(default_factory=time.monotonic)

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
        process = subprocess.Popen(
            command,
            env={**os.environ, **thread_env} if unsandboxed else None,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        return cls(process=process, input_dir=input_dir, config=config, threads=threads)

    def usable_for(self, config: SandboxConfig, threads: int) -> bool:
        return (
            self.config == config
            and self.threads == threads
            and self.process.poll() is None
            and time.monotonic() - self.started_at < _SPARE_MAX_AGE
        )

    def run(self, spec: dict[str, Any], wall_seconds: float) -> tuple[dict[str, Any] | None, str]:
        """Send the spec and wait for the report; (report, bubblewrap's stderr)."""
        try:
            stdout, stderr = self.process.communicate(
                (json.dumps(spec) + "\n").encode(), timeout=wall_seconds + self.config.grace_seconds
            )
        except subprocess.TimeoutExpired:
            self.kill()
            return None, "the sandbox did not answer within its wall-clock limit"
        if len(stdout) > _REPORT_LIMIT or not stdout.strip():
            return None, stderr.decode(errors="replace")[-2000:]
        try:
            return json.loads(stdout), ""
        except ValueError:
            return None, "the sandbox's report is not JSON"

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(Exception):
            self.process.communicate(timeout=10)

    def discard(self) -> None:
        self.kill()
        shutil.rmtree(self.input_dir, ignore_errors=True)
        shutil.rmtree(str(self.input_dir) + "-out", ignore_errors=True)


_spare: Sandbox | None = None


def sandbox_take(config: SandboxConfig, threads: int) -> Sandbox:
    """A started sandbox for one job: the warm spare if it fits, else a new one."""
    global _spare
    spare, _spare = _spare, None
    if spare is not None and spare.usable_for(config, threads):
        return spare
    if spare is not None:
        spare.discard()
    return Sandbox.start(config, threads)


def sandbox_prewarm(config: SandboxConfig, threads: int) -> None:
    """Start the next job's sandbox now, while this worker is idle."""
    global _spare
    if config.prewarm and _spare is None:
        _spare = Sandbox.start(config, threads)
