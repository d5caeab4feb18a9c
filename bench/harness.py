"""What every benchmark needs: a database and a Redis server of its own, the
settings pointed at them, Celery processes, and everything removed afterwards.

    with bench_platform(PPIPE_X="1") as platform:
        platform.start_celery("worker", "-Q", "control", "-n", "control@bench")
        ...

Every folder a benchmark makes in the temporary directory comes from
`bench_temp_dir()`, which removes it when the benchmark exits: at the end, on
an exception, on Ctrl-C (SIGINT) and on SIGTERM. A day of runs once left 5 GB
of `ppipe-bench-*` folders behind.
"""

from __future__ import annotations

import atexit
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

_temp_dirs: list[Path] = []
_owner_pid = os.getpid()


def bench_temp_dir(prefix: str = "ppipe-bench-") -> Path:
    """A new folder in the temporary directory, removed when this benchmark exits,
    however it exits (but SIGKILL). Made in the benchmark's own process: a
    folder made in a pool's forked child would not be removed by the child,
    which leaves through os._exit, past atexit."""
    path = Path(tempfile.mkdtemp(prefix=prefix))
    _temp_dirs.append(path)
    return path


def remove_temp_dir(path: Path) -> None:
    """Remove one of them now, when a benchmark is done with it before it ends."""
    if path in _temp_dirs:
        _temp_dirs.remove(path)
    shutil.rmtree(path, ignore_errors=True)


def remove_temp_dirs() -> None:
    # Only the process that made them: a forked child that runs atexit would
    # remove its parent's folders while the parent still works in them.
    if os.getpid() != _owner_pid:
        return
    while _temp_dirs:
        shutil.rmtree(_temp_dirs.pop(), ignore_errors=True)


def _exit_on_sigterm(signum: int, frame: object) -> None:
    # The default action ends the process on the spot, past `finally` and atexit:
    # as an exception, it unwinds like Ctrl-C, stopping the benchmark's servers too.
    raise SystemExit(128 + signum)


atexit.register(remove_temp_dirs)
if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
    signal.signal(signal.SIGTERM, _exit_on_sigterm)


@dataclass
class BenchPlatform:
    work: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def log_path(self) -> Path:
        return self.work / "processes.log"

    def start_celery(self, *args: str) -> subprocess.Popen[bytes]:
        # Workers of the remote queues run the remote workers' app (worker_node),
        # which alone has the execute_* tasks; beat and control, the Django one.
        queues = args[args.index("-Q") + 1].split(",") if "-Q" in args else ["control"]
        app = (
            ["-m", "worker_node"]
            if "control" not in queues
            else ["-m", "celery", "-A", "ppipe_site"]
        )
        env = dict(os.environ)
        if "control" not in queues:
            # What a remote worker holds: the broker and the artifact store, never
            # the database's credentials or the private store (worker_node.command
            # refuses to start with DATABASE_URL set; so must the bench's).
            env.pop("DATABASE_URL", None)
            env.pop("DJANGO_SETTINGS_MODULE", None)
            env["PPIPE_PRIVATE_DIR"] = "/nonexistent"
        with self.log_path.open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, *app, *args],
                stdout=log,
                stderr=log,
                env=env,
            )
        self.processes.append(process)
        return process

    def stop_processes(self) -> None:
        """SIGTERM every process started, and wait (SIGKILL after 30 s)."""
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        self.processes.clear()


def _start_pgserver() -> str:
    """A throwaway PostgreSQL in a folder removed at exit. Its own atexit handler,
    registered after ours, stops it first (atexit runs them last in, first out)."""
    import pgserver

    server = pgserver.get_server(bench_temp_dir("ppipe-bench-pg-"), cleanup_mode="stop")
    return str(server.get_uri())


@contextmanager
def bench_platform(**env: str) -> Iterator[BenchPlatform]:
    """PostgreSQL on 127.0.0.1:5432 (or a throwaway pgserver, or the server
    PPIPE_BENCH_POSTGRES names) with a database of its own, a Redis server of its
    own, Django set up and migrated."""
    import psycopg

    from tests.servers import RedisServer
    from tests.services import MACHINE_POSTGRES, _postgres_answers

    # PPIPE_BENCH_POSTGRES: a server of one's own (one with pg_stat_statements
    # preloaded, say, for the census's statements).
    base = os.environ.get("PPIPE_BENCH_POSTGRES") or (
        MACHINE_POSTGRES if _postgres_answers(MACHINE_POSTGRES) else _start_pgserver()
    )
    name = f"bench_ppipe_{os.getpid()}"
    admin_url = base.replace("postgres://", "postgresql://", 1)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    work = bench_temp_dir()
    (work / "redis").mkdir()
    redis = RedisServer(work / "redis").start()
    os.environ.update(
        DJANGO_SETTINGS_MODULE="ppipe_site.settings",
        DATABASE_URL=admin_url.rsplit("/", 1)[0] + f"/{name}",
        CELERY_BROKER_URL=redis.url,
        CELERY_RESULT_BACKEND=redis.url,
        PPIPE_VAR_DIR=str(work / "var"),
        # The judge workers' sandboxes, inside the folder that is removed at exit.
        PPIPE_JUDGE_WORK_DIR=str(work),
        **env,
    )
    platform = BenchPlatform(work=work)
    try:
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        yield platform
    finally:
        platform.stop_processes()
        redis.stop()
        from django.db import connections

        connections.close_all()
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        remove_temp_dir(work)  # its artifacts and sandboxes: gigabytes, not kept till exit
