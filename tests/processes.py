"""Real Celery processes for tests: workers and beat, against the test database
and the test Redis, each stopped by its PID."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from django.db import connection

from tests.servers import stop_processes, wait_until


def test_database_url() -> str:
    """The URL of the database the tests run in (pytest-django's test database)."""
    db = connection.settings_dict
    host = db.get("HOST") or ""
    if host.startswith("/"):
        return f"postgresql://{db['USER']}:{db.get('PASSWORD') or ''}@/{db['NAME']}?host={host}"
    port = db.get("PORT") or 5432
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    return f"postgresql://{db['USER']}{password}@{host}:{port}/{db['NAME']}"


def process_env(**extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ppipe_site.settings",
        "DATABASE_URL": test_database_url(),
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


# The control side's app (Django), and the remote workers' (worker_node, no Django).
CONTROL_APP = [sys.executable, "-m", "celery", "-A", "ppipe_site"]
REMOTE_APP = [sys.executable, "-m", "worker_node"]


def serves_remote_queues_only(queues: list[str]) -> bool:
    return "control" not in queues


class CeleryProcess:
    def __init__(
        self, args: list[str], *, env: dict[str, str], label: str, app: list[str] = CONTROL_APP
    ) -> None:
        self.log_path = Path(tempfile.mkstemp(prefix=f"ppipe-{label}-", suffix=".log")[1])
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [*app, *args],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
            # Its own process group: kill() takes the pool children down with it,
            # as when a machine dies.
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.process.pid

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        stop_together([self])

    def kill(self) -> None:
        """SIGKILL the whole process group: no warm shutdown, no acknowledgement."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)


class WorkerProcess(CeleryProcess):
    def __init__(
        self, queues: list[str], *, concurrency: int = 1, pool: str = "prefork", **env: str
    ) -> None:
        # Kept, to start the same worker again (tests/release_platform.py).
        self.queues, self.concurrency, self.pool, self.env_extra = queues, concurrency, pool, env
        self.name = f"test-{uuid.uuid4().hex[:8]}@{os.uname().nodename}"
        remote = serves_remote_queues_only(queues)
        environment = process_env(**env)
        if remote:
            # As on a worker host: no Django settings to find.
            environment.pop("DJANGO_SETTINGS_MODULE", None)
        super().__init__(
            [
                "worker",
                "-Q",
                ",".join(queues),
                "-n",
                self.name,
                "-c",
                str(concurrency),
                "--pool",
                pool,
                "--without-gossip",
                "--without-mingle",
                "-l",
                "INFO",
            ],
            env=environment,
            label="worker",
            app=REMOTE_APP if remote else CONTROL_APP,
        )

    def wait_ready(self, timeout: float = 60) -> WorkerProcess:
        def answers() -> bool:
            if not self.alive():
                raise RuntimeError(f"worker {self.name} exited:\n{self.log_tail()}")
            # The worker's own word that it consumes, whichever broker a test gave it.
            return f"{self.name} ready." in self.log_path.read_text(errors="replace")

        try:
            wait_until(answers, timeout=timeout, what=f"worker {self.name}", interval=0.2)
        except TimeoutError as error:
            raise TimeoutError(f"{error}\n{self.log_tail()}") from None
        return self


class BeatProcess(CeleryProcess):
    def __init__(self, **env: str) -> None:
        schedule = tempfile.mkdtemp(prefix="ppipe-beat-")
        super().__init__(
            ["beat", "-l", "INFO", "--pidfile", "", "-s", f"{schedule}/schedule"],
            env=process_env(**env),
            label="beat",
        )


def stop_together(processes: list[CeleryProcess]) -> None:
    """Stop these processes, their warm shutdowns overlapping (tests/servers.py)."""
    stop_processes([process.process for process in processes])
    for process in processes:
        process._log.close()


def wait_all_ready(workers: list[WorkerProcess]) -> list[WorkerProcess]:
    """Wait for workers already started together: their start-ups (a few seconds
    each, mostly importing) overlap instead of following one another."""
    for worker in workers:
        worker.wait_ready()
    return workers


@contextmanager
def running(process: Any) -> Iterator[Any]:
    try:
        yield process
    finally:
        process.stop()
