"""The per-worker rclone daemon answers only its owner, shows no secret on its
command line, and dies with the process that started it (a revoked upload stops)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import httpx
import psutil

from tests.servers import wait_until
from worker_wing.release.rclone import RcloneDaemon


def test_only_the_owner_with_the_password_is_answered() -> None:
    daemon = RcloneDaemon()
    try:
        client = daemon._start()
        stranger = httpx.Client(transport=httpx.HTTPTransport(uds=str(daemon.socket)))

        assert client.post("/rc/noop", json={}).status_code == 200
        assert stranger.post("http://rclone/rc/noop", json={}).status_code == 401
        assert daemon.folder.stat().st_mode & 0o077 == 0
        assert daemon.password not in " ".join(psutil.Process(daemon.process.pid).cmdline())  # type: ignore[union-attr]
    finally:
        daemon.close()


def test_the_daemon_dies_when_its_worker_process_is_killed() -> None:
    owner = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent("""
            import time
            from worker_wing.release.rclone import RcloneDaemon
            daemon = RcloneDaemon(); daemon._start()
            print(daemon.process.pid, flush=True)
            time.sleep(600)
        """),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    daemon_pid = int(owner.stdout.readline())  # type: ignore[union-attr]
    assert psutil.pid_exists(daemon_pid)

    owner.kill()
    owner.wait()

    wait_until(
        lambda: (
            not psutil.pid_exists(daemon_pid) or psutil.Process(daemon_pid).status() == "zombie"
        ),
        timeout=10,
        what="the rclone daemon to die with its owner",
    )
