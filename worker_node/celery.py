"""The remote worker's Celery app: configured from the environment, no Django.

`celery -A worker_node worker -Q judge` (as `ppipe-worker --queues judge` runs
it) loads this module, the wing's executors and Celery, nothing of the control
side; Celery's Django fix-up is switched off, so a DJANGO_SETTINGS_MODULE left in
the environment loads nothing either. The configuration matches the control
side's CELERY_* settings where both read it (a test compares them).
"""

from __future__ import annotations

import logging.config
import sys
from typing import Any

# kombu serialises Django's lazy strings when it finds Django installed, and so
# imports django.utils on every worker whose virtualenv has Django beside it (a
# developer's, or a host set up with the control side too). A worker has no
# lazy strings: it runs as it would on a host without Django. In a process that
# already runs Django (the control side's tests) nothing changes.
if "django" not in sys.modules:
    sys.modules["django"] = None  # type: ignore[assignment]

from celery import Celery
from celery.signals import setup_logging
from kombu import Queue

from worker_node import names
from worker_node.logs import logging_config
from worker_node.settings import WorkerSettings

settings = WorkerSettings.from_environ()


def celery_config(worker: WorkerSettings) -> dict[str, Any]:
    return {
        "broker_url": worker.broker_url,
        "result_backend": worker.result_backend,
        # JSON only: a job must be readable and re-runnable from its text, and a
        # worker must never unpickle what a broker hands it.
        "accept_content": ["json"],
        "task_serializer": "json",
        "result_serializer": "json",
        "result_expires": 24 * 3600,
        "task_queues": [Queue(name) for name in names.QUEUES],
        "task_default_queue": names.DEFAULT_QUEUE,
        "task_routes": names.TASK_ROUTES,
        # A queue of its own per worker (`<node>.dq2`): a reproduction can be sent
        # to one chosen judge worker.
        "worker_direct": True,
        # Long jobs: one message at a time, so an idle worker elsewhere takes the next.
        "worker_prefetch_multiplier": 1,
        "task_acks_late": False,
        "task_soft_time_limit": worker.task_soft_time_limit,
        "task_time_limit": worker.task_time_limit,
        # Must outlast the longest job, or a running job would be handed out twice.
        "broker_transport_options": {
            "visibility_timeout": worker.visibility_timeout,
            "socket_connect_timeout": 5,
        },
        "result_backend_transport_options": {"socket_connect_timeout": 5},
        "broker_connection_retry_on_startup": True,
        "task_track_started": True,
        "worker_send_task_events": True,
        "task_send_sent_event": True,
        "worker_hijack_root_logger": False,
    }


# fixups=[]: no Django fix-up, whatever the environment says. The execute_* tasks
# (worker_node/tasks.py, which uses this app) are loaded by name when a worker
# starts, as Celery loads `include`: no import loop between the two modules.
# set_as_current=False: a process that also holds the control side's app (a test,
# a shell) keeps that one as Celery's current app, which its shared tasks use;
# the worker command makes this one current in a worker process.
app = Celery(
    "ppipe",
    fixups=[],
    # judge_warmup: its signal handlers start a judge process's sandbox at once.
    include=["worker_node.tasks", "worker_node.judge_warmup"],
    set_as_current=False,
)
app.conf.update(celery_config(settings))


@setup_logging.connect
def _configure_logging(**_: Any) -> None:
    # The control side's format (plain or JSON, with job ids) instead of Celery's.
    logging.config.dictConfig(logging_config(settings.log_level, settings.log_format))
