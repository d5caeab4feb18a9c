"""`ppipe-worker`: start a worker for chosen queues, on any machine.

    CELERY_BROKER_URL=rediss://:password@broker.example.edu:6380/0 \\
    PPIPE_ARTIFACT_DIR=/mnt/ppipe-artifacts ppipe-worker --queues judge

A worker of the remote queues (dispatch, judge, probe) needs only the broker URL
and read access to the artifact store: it refuses to start with database
credentials, which a machine running student code or probing student URLs
must not hold. Its name shows its queues and host (`judge@lab-07`), in Flower
and in every result it records. Probes wait on the network, so a probe-only
worker runs a thread pool; the others run one process per CPU.

A challenge may have a judge queue of its own (`judge-hospital`): a worker on
the data owner's servers serves it with `--queues judge-hospital`, and that
challenge's submissions are judged there and nowhere else.

The remote queues run the remote worker's app (worker_node/celery.py), which
loads no Django: a worker host needs only `pip install ppipe` (no `[control]`).
`--queues control` runs the control side's app (`celery -A ppipe_site`), which
needs the whole project and the database.
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import sys
from collections.abc import Sequence

REMOTE_QUEUES = ("dispatch", "judge", "probe")
QUEUES = ("control", *REMOTE_QUEUES)
PROBE_THREADS = 32
# A challenge's own judge queue (challenges.models.JUDGE_QUEUE_PATTERN: this module
# imports no Django, so a worker machine needs no settings to parse its options).
OWN_JUDGE_QUEUE = re.compile(r"judge-[a-z0-9][a-z0-9-]{0,50}")


class WorkerConfigError(Exception):
    """The worker cannot start as asked; the message says what to change."""


def worker_argv(
    queues: Sequence[str],
    *,
    host: str,
    concurrency: int | None,
    environ: dict[str, str],
) -> list[str]:
    """The `celery worker` command line for these queues on this host."""
    unknown = [
        queue for queue in queues if queue not in QUEUES and not OWN_JUDGE_QUEUE.fullmatch(queue)
    ]
    if not queues or unknown:
        raise WorkerConfigError(
            f"Unknown queue(s) {', '.join(unknown) or '(none given)'}: "
            f"choose from {', '.join(QUEUES)}, or a challenge's own judge queue "
            "(judge-<name>, as its teacher set it)."
        )
    if "control" not in queues and environ.get("DATABASE_URL"):
        raise WorkerConfigError(
            "A worker of the remote queues must not hold database credentials: "
            "unset DATABASE_URL (it needs only CELERY_BROKER_URL and the artifact store)."
        )
    if "control" in queues and len(queues) > 1:
        raise WorkerConfigError(
            "Run the control queue in a worker of its own: it holds the database "
            "credentials the remote queues must never see."
        )
    threads = list(queues) == ["probe"]
    argv = ["worker", "-Q", ",".join(queues), "-n", f"{'+'.join(queues)}@{host}"]
    if threads:
        argv += ["--pool", "threads", "-c", str(concurrency or PROBE_THREADS)]
    elif concurrency:
        argv += ["-c", str(concurrency)]
    return [*argv, "-l", environ.get("LOG_LEVEL", "INFO")]


def main(args: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--queues",
        required=True,
        help=f"comma-separated, from: {', '.join(QUEUES)}, or a challenge's own judge-<name>",
    )
    parser.add_argument("--concurrency", type=int, help="processes (threads for probe)")
    parser.add_argument("--host", default=socket.gethostname(), help="shown in the name")
    options = parser.parse_args(args)
    queues = [queue.strip() for queue in options.queues.split(",") if queue.strip()]
    try:
        argv = worker_argv(
            queues, host=options.host, concurrency=options.concurrency, environ=dict(os.environ)
        )
    except WorkerConfigError as error:
        raise SystemExit(f"ppipe-worker: {error}") from None
    if "control" in queues:
        print(f"ppipe-worker: celery -A ppipe_site {' '.join(argv)}", file=sys.stderr, flush=True)
        # The control side's app, in a process of its own: this module stays free
        # of Django for the remote queues.
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ppipe_site.settings")
        celery = [sys.executable, "-m", "celery", "-A", "ppipe_site", *argv]
        os.execv(sys.executable, celery)  # noqa: S606  (no shell: argv as given)
    # Imported first thing in this process, before anything imports Celery (see
    # worker_node/celery.py on Django and kombu).
    from worker_node.celery import app

    print(f"ppipe-worker: celery -A worker_node {' '.join(argv)}", file=sys.stderr, flush=True)
    app.worker_main(argv)


if __name__ == "__main__":
    main()
