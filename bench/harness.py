"""What every benchmark needs: a database and a Redis server of its own, the
settings pointed at them, Celery processes, and everything removed afterwards.

    with bench_platform(PPIPE_X="1") as platform:
        platform.start_celery("worker", "-Q", "control", "-n", "control@bench")
        ...
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


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
        with self.log_path.open("ab") as log:
            process = subprocess.Popen(
                [sys.executable, *app, *args],
                stdout=log,
                stderr=log,
            )
        self.processes.append(process)
        return process


@contextmanager
def bench_platform(**env: str) -> Iterator[BenchPlatform]:
    """PostgreSQL on 127.0.0.1:5432 (or a throwaway pgserver) with a database of its
    own, a Redis server of its own, Django set up and migrated."""
    import psycopg

    from tests.servers import RedisServer
    from tests.services import MACHINE_POSTGRES, _postgres_answers, _start_pgserver

    base = MACHINE_POSTGRES if _postgres_answers(MACHINE_POSTGRES) else _start_pgserver()
    name = f"bench_ppipe_{os.getpid()}"
    admin_url = base.replace("postgres://", "postgresql://", 1)
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    work = Path(tempfile.mkdtemp(prefix="ppipe-bench-"))
    (work / "redis").mkdir()
    redis = RedisServer(work / "redis").start()
    os.environ.update(
        DJANGO_SETTINGS_MODULE="ppipe_site.settings",
        DATABASE_URL=admin_url.rsplit("/", 1)[0] + f"/{name}",
        CELERY_BROKER_URL=redis.url,
        CELERY_RESULT_BACKEND=redis.url,
        PPIPE_VAR_DIR=str(work / "var"),
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
        for process in platform.processes:
            process.terminate()
        for process in platform.processes:
            process.wait(timeout=30)
        redis.stop()
        from django.db import connections

        connections.close_all()
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
