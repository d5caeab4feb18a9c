"""`make run`: set up and start the whole platform on one machine.

Starts every process under one supervisor (ppipe_site/supervisor.py), each as
soon as what it needs is ready, the set-up steps meanwhile (see `set_up`):
the embedded Redis (unless CELERY_BROKER_URL names one), the web server, a
control worker, a release worker, a judge worker, a probe worker (threads),
beat, Flower and the demo's model server. Ctrl-C stops them all. Data lives in
the var folder, so running it again keeps it. The terminal stays quiet (periodic
ticks at DEBUG, one line a mail); LOG_LEVEL=DEBUG shows everything.

Started as root, it runs every process that does not need root as the user ppipe
(ppipe_site/service_user.py says which keep root, and how they share var).
"""

from __future__ import annotations

import fcntl
import functools
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import IO

from foundation.env import env_str
from ppipe_site.service_user import (
    SHARED_UMASK,
    ServiceAccount,
    let_enter,
    service_account,
    service_paths,
    share_var_dir,
)
from ppipe_site.supervisor import Process, Supervisor

# Processes that keep root when the launcher has it: the judge worker starts
# bubblewrap without a user namespace and manages cgroups; the release worker
# starts rclone as ppipe-release (ppipe_site/service_user.py).
NEEDS_ROOT = frozenset({"judge", "jobs"})


def _bin(name: str) -> str:
    """A program installed beside this interpreter (the virtualenv's bin/)."""
    candidate = Path(sys.executable).parent / name
    found = str(candidate) if candidate.exists() else shutil.which(name)
    if found is None:
        raise SystemExit(f"{name} is not installed: run `make run` to set up the virtualenv.")
    return found


def set_up(
    done: Callable[[str], None], *, demo_endpoint: str, run_as: ServiceAccount | None = None
) -> None:
    """The first start's steps, in the order they depend on each other, each
    announced when done so the processes waiting on it start (a second start finds
    each done already, in a few seconds).

    Static files are collected by a process of their own, beside the migrations:
    they need no database, and compressing them is the longest step. Migrations and
    the platform's set-up run here, in the launcher, which has Django loaded
    already: two fewer Python processes to start, on a machine that may be busy.
    The sandboxes' libraries are compiled meanwhile, in a process of its own
    (ppipe_site/sandbox_bytecode.py): the judge worker waits on that step, and so
    does the platform's set-up, as the demo's data set imports scikit-learn
    (compiled once, not by two processes at the same time)."""
    from django.core.management import call_command
    from django.db import connections

    from worker_wing.pipeline.source_checker import stop_checker

    compiling = subprocess.Popen(BYTECODE_COMMAND, stdin=subprocess.DEVNULL)
    static = subprocess.Popen(
        [sys.executable, "manage.py", "collectstatic", "--no-input", "-v", "0"],
        # The web server's files, written as its user: only the bytecode needs root.
        user=None if run_as is None else run_as.uid,
        group=None if run_as is None else run_as.gid,
        extra_groups=None if run_as is None else [],
        umask=-1 if run_as is None else SHARED_UMASK,
    )
    try:
        call_command("migrate", "--no-input", verbosity=0)
        done("migrate")
        if static.wait() != 0:
            raise SystemExit(f"collectstatic failed (exit code {static.returncode})")
        done("static")
        # Whatever its exit code: a file that did not compile stays source, and the
        # sandboxes import it all the same (slower).
        compiling.wait()
        done("bytecode")
        call_command("setup_platform", demo_endpoint=demo_endpoint)
        done("platform")
    finally:
        for child in (static, compiling):
            if child.poll() is None:
                child.kill()
                child.wait()
        # The launcher keeps no connection open for the platform's lifetime, nor the
        # child that parsed the demo's code (root's, when the launcher is).
        connections.close_all()
        stop_checker()


# Run by path: ppipe_site/sandbox_bytecode.py needs neither Django nor Celery.
BYTECODE_COMMAND = [sys.executable, str(Path(__file__).with_name("sandbox_bytecode.py"))]


def processes(
    *,
    var_dir: Path,
    web_bind: str,
    flower_port: int,
    embedded_redis: bool,
    demo_model: list[str],
    log_level: str = "INFO",
    run_as: ServiceAccount | None = None,
) -> list[Process]:
    celery = [_bin("celery"), "-A", "ppipe_site"]
    # The remote queues' workers run the Django-free app, as on a worker host.
    remote = [sys.executable, "-m", "worker_node"]
    result = []
    if embedded_redis:
        redis_dir = var_dir / "redis"
        redis_dir.mkdir(parents=True, exist_ok=True)
        result.append(
            Process(
                "redis",
                [
                    _bin("redis-server"),
                    "--port",
                    "0",
                    "--unixsocket",
                    str(var_dir / "redis.sock"),
                    "--unixsocketperm",
                    "700",
                    "--dir",
                    str(redis_dir),
                    # Queued jobs survive a restart of `make run`.
                    "--appendonly",
                    "yes",
                    "--save",
                    "",
                ],
                stops_last=True,
            )
        )
    result += [
        Process(
            "web",
            [
                _bin("gunicorn"),
                "ppipe_site.wsgi",
                "--bind",
                web_bind,
                "--workers",
                "2",
                "--threads",
                "4",
                # Request line and headers bounded before Django sees them: the
                # longest URL here is short, and a client needs a dozen headers.
                # Bodies are bounded per route by foundation.body_limits.
                "--limit-request-line",
                "4094",
                "--limit-request-fields",
                "50",
                "--limit-request-field_size",
                "8190",
                "--access-logfile",
                "-",
                # gunicorn 27 waits out the whole graceful timeout on a stop, even
                # once its workers have exited: 3 s keeps Ctrl-C within its budget
                # (requests here last milliseconds).
                "--graceful-timeout",
                "3",
                # Its control socket defaults to one path per user (~/.gunicorn), which
                # a second platform on the machine would take over; nothing uses it.
                "--no-control-socket",
            ],
        ),
        Process(
            "control",
            [*celery, "worker", "-Q", "control", "-n", "control@%h", "-c", "2", "-l", log_level],
        ),
        Process(
            "jobs",
            [
                *remote,
                "worker",
                "-Q",
                "dispatch",
                "-n",
                "jobs@%h",
                "-c",
                "2",
                "-l",
                log_level,
            ],
        ),
        # Probes wait on the network, not the CPU: one process, many threads.
        Process(
            "probe",
            [
                *remote,
                "worker",
                "-Q",
                "probe",
                "-n",
                "probe@%h",
                "--pool",
                "threads",
                "-c",
                "32",
                "-l",
                log_level,
            ],
        ),
        # Judging has its own worker, so a long training run never holds back a release.
        Process(
            "judge",
            [*remote, "worker", "-Q", "judge", "-n", "judge@%h", "-c", "2", "-l", log_level],
        ),
        Process("beat", [*celery, "beat", "-l", log_level]),
        Process("demo-model", demo_model),
        Process(
            "flower",
            [
                *celery,
                "flower",
                f"--port={flower_port}",
                "--address=127.0.0.1",
                "--persistent=True",
                f"--db={var_dir / 'flower.db'}",
            ],
        ),
    ]
    # When each starts. The set-up is the path to /healthz: the web server serves the
    # static files it finds when it starts (whitenoise), after the migrations. On a
    # busy 2-core machine every process started beside the set-up takes CPU from it
    # (measured at load 20: all nine starting with the migrations, /healthz took over
    # 120 s), so the web server starts alone once the database and the static files
    # are there, and the others once the platform's set-up is done (measured for
    # issue 22: started with the web server, 14 s passed between its first worker
    # booting and /healthz); beat
    # with them, as its first tick sends the demo's submissions, which that set-up
    # creates; the judge worker once the sandboxes' libraries are compiled: its
    # sandboxes could not write their bytecode.
    starts_after = {"redis": "", "web": "static", "judge": "bytecode"}
    return [
        replace(
            p,
            after=starts_after.get(p.name, "platform"),
            run_as=None if p.name in NEEDS_ROOT else run_as,
        )
        for p in result
    ]


def hold_instance_lock(var_dir: Path) -> IO[str]:
    """One platform per var folder: a second one would start its own Redis on the
    same socket and pull the first one's broker away when it stops."""
    var_dir.mkdir(parents=True, exist_ok=True)
    handle = (var_dir / "launcher.lock").open("w")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise SystemExit(
            f"ppipe is already running from {var_dir} (it holds {var_dir / 'launcher.lock'}): "
            "stop it with Ctrl-C first, or set PPIPE_VAR_DIR to run a second platform."
        ) from None
    return handle


def data_stores() -> list[Path]:
    """The folders the services and the root workers share: the stores, wherever
    they are, and the local destinations' roots in var (one outside var is an
    operator's folder, written by the release worker as root)."""
    from django.conf import settings

    var_dir = Path(settings.VAR_DIR).resolve()
    local_roots = [Path(root) for root in settings.PPIPE_LOCAL_DESTINATION_ROOTS]
    return [
        Path(settings.PPIPE_ARTIFACT_DIR),
        Path(settings.PPIPE_PRIVATE_DIR),
        Path(settings.PPIPE_MEDIA_DIR),
        Path(settings.STATIC_ROOT),
        *(root for root in local_roots if root.resolve().is_relative_to(var_dir)),
    ]


def sqlite_database() -> Path | None:
    """The platform's SQLite file, when it has one (no DATABASE_URL)."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    if "sqlite3" not in str(database["ENGINE"]):
        return None
    return Path(str(database["NAME"]))


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ppipe_site.settings")
    import django
    from django.conf import settings

    django.setup()
    from ppipe_site.demo import DEMO_JOIN_CODE, DEMO_SLUG, demo_model_command

    lock = hold_instance_lock(settings.VAR_DIR)  # held until this process exits
    account = service_account(settings.VAR_DIR)
    if account is not None:
        let_enter(account, service_paths([settings.VAR_DIR, *data_stores()]))
        # Before the set-up: the database and folders it creates as root stay
        # writable for the services (service_user.py).
        os.umask(SHARED_UMASK)
        share_var_dir(settings.VAR_DIR, account, database=sqlite_database(), stores=data_stores())
    web_bind = env_str("PPIPE_WEB_BIND", "127.0.0.1:8000")
    embedded_redis = not os.environ.get("CELERY_BROKER_URL")
    print(
        "Setting up: migrations, static files, accounts, periodic tasks, demo challenge…",
        flush=True,
    )
    demo_model = f"http://127.0.0.1:{settings.PPIPE_DEMO_MODEL_PORT}"

    user, password = settings.FLOWER_BASIC_AUTH
    env = {
        **os.environ,
        # Flower reads its options from FLOWER_* variables: the password stays off
        # the command line, where `ps` would show it to every user of the machine.
        "FLOWER_BASIC_AUTH": f"{user}:{password}",
        "PYTHONUNBUFFERED": "1",
    }
    site = settings.SITE_URL
    print(
        "\nppipe is starting. Ctrl-C stops everything.\n"
        f"  admin        {site}/admin/\n"
        f"  demo         {site}/admin/challenges/challenge/\n"
        f"  leaderboard  {site}/challenges/{DEMO_SLUG}/leaderboard/\n"
        f"  student      {site}/signup/  (join code {DEMO_JOIN_CODE}: sign up as a student)\n"
        f"  demo model   {demo_model}/health (probed as demo-ada's endpoint)\n"
        f"  API          {site}/api/docs/\n"
        f"  health       {site}/healthz\n"
        f"  Flower       http://127.0.0.1:{settings.FLOWER_PORT}/"
        f"  (user {user}, password {password})\n",
        flush=True,
    )

    supervisor = Supervisor(
        processes(
            var_dir=settings.VAR_DIR,
            web_bind=web_bind,
            flower_port=settings.FLOWER_PORT,
            embedded_redis=embedded_redis,
            demo_model=demo_model_command(port=settings.PPIPE_DEMO_MODEL_PORT),
            log_level=env_str("LOG_LEVEL", "INFO").upper(),
            run_as=account,
        ),
        env=env,
    )
    returncode = supervisor.run(functools.partial(set_up, demo_endpoint=demo_model, run_as=account))
    lock.close()
    sys.exit(returncode)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        # Ctrl-C during the set-up steps: nothing was started yet, no traceback.
        print("\nStopped before the platform started.", flush=True)
        sys.exit(130)
