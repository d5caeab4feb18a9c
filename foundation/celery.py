"""The Celery application: configuration comes from Django settings (CELERY_*)."""

from __future__ import annotations

import contextlib
import os
from typing import Any

from celery import Celery
from celery.signals import beat_init, task_postrun, task_prerun, worker_init
from django.db import DatabaseError, InterfaceError, OperationalError, close_old_connections

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ppipe_site.settings")

app = Celery("ppipe")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@beat_init.connect
def _register_periodic_tasks_on_beat_start(sender: Any = None, **_: Any) -> None:
    # Beat is the one process that runs the schedule: registering here means a
    # deployment can never run with a schedule older than its code.
    from foundation.periodic import register_periodic_tasks

    register_periodic_tasks()


@worker_init.connect
def _quiet_periodic_ticks(sender: Any = None, **_: Any) -> None:
    # Before the consumer starts (and before the pool forks), so even the first
    # tick's "received" line is quiet.
    from foundation.periodic import declared_periodic_jobs
    from worker_node.logs import quiet_routine_tasks

    quiet_routine_tasks((job.task for job in declared_periodic_jobs()), own_lines=True)
    # A mail's own line (notifications/console_mail.py) says all: Celery's two are noise.
    quiet_routine_tasks(["notifications.tasks.deliver_notification"], own_lines=False)


@worker_init.connect
def _preload_scoring(sender: Any = None, **_: Any) -> None:
    # In the parent, before the pool forks: the children share the imported modules.
    # Otherwise each child's first recorded result imports scikit-learn's metrics
    # (with scipy: about 1.2 s of CPU, measured for issue 22) while a judge waits
    # for its next job. Workers of this app are control workers: the remote queues
    # run worker_node's app.
    from worker_wing.judge.metrics import metrics_preload

    metrics_preload()
    # The URL resolver too: a result's notice links to its page (notifications/mail.py),
    # and the first `reverse` in each process imports every view and builds the
    # resolver's tables, about 0.25 s of CPU (measured for issue 22), in the record
    # task of that process's first result.
    from django.urls import get_resolver

    get_resolver().reverse_dict  # noqa: B018  # read for its effect: the tables built


@task_prerun.connect
@task_postrun.connect
def _drop_stale_database_connections(sender: Any = None, **_: Any) -> None:
    # Connections outlive tasks (CELERY_DB_REUSE_MAX), so what Django does around
    # each web request is done around each task: a connection past CONN_MAX_AGE, or
    # one an error left unusable (PostgreSQL restarted), is closed here, and the
    # next query's health check (CONN_HEALTH_CHECKS) reconnects instead of failing.
    if getattr(getattr(sender, "request", None), "is_eager", False):
        return  # run in the caller's process (tests): its connection is the caller's
    # Closing a dead connection may raise: it is gone either way.
    with contextlib.suppress(DatabaseError):
        close_old_connections()


# Record tasks (a worker's report reaching the database) wait out a database
# outage instead of losing the report: retried with backoff (at most
# RECORD_RETRY_MAX_SECONDS apart) for about half an hour, acknowledged only once done.
RECORD_RETRY_MAX_SECONDS = 10
RECORD_TASK_OPTIONS: dict[str, Any] = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": (OperationalError, InterfaceError),
    "retry_backoff": 1,
    "retry_backoff_max": RECORD_RETRY_MAX_SECONDS,
    "retry_jitter": False,
    "max_retries": 200,
}


def discard_unstarted_task(task_id: str) -> None:
    """Revoke a job's message that no worker reported started (not terminated):
    workers remember revoked ids and drop the message should it reach them. The
    reapers use it instead of Celery's `expires`, which a worker would compare
    with its own clock."""
    app.control.revoke(task_id)
