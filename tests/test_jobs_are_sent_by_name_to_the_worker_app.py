"""The control side sends jobs by name to the remote workers' app (worker_node),
which alone defines the execute_* tasks; the messages carry what the tasks'
definitions used to add (time limits, whether a result is kept), the workers
report to record tasks the control side defines, and both apps route alike."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
import redis
from django.utils import timezone

import dispatch.tasks
import judging.tasks
import probing.tasks
from foundation.celery import app as control_app
from probing.services import probe_task_id
from worker_node import names
from worker_node.celery import app as worker_app

EXECUTE = [
    names.EXECUTE_TRANSACTION,
    names.EXECUTE_TRANSACTION_BATCH,
    names.EXECUTE_JUDGE_JOB,
    names.EXECUTE_REPRODUCTION_JOB,
    names.EXECUTE_PROBE,
]
RECORD = [
    value
    for key, value in vars(names).items()
    if key.startswith("RECORD_") and isinstance(value, str)
]


def _taken(broker_url: str, queue: str, task_id: str) -> dict[str, Any]:
    broker = redis.Redis.from_url(broker_url, decode_responses=True)
    (raw,) = [r for r in broker.lrange(queue, 0, -1) if json.loads(r)["headers"]["id"] == task_id]
    broker.lrem(queue, 1, raw)  # no worker should pick it up later
    return dict(json.loads(raw))


def test_the_execute_tasks_live_on_the_worker_app_only() -> None:
    control_app.loader.import_default_modules()
    worker_app.loader.import_default_modules()  # as a starting worker does

    assert set(EXECUTE) <= set(worker_app.tasks)
    assert not set(EXECUTE) & set(control_app.tasks)
    assert len(RECORD) == 10
    assert set(RECORD) <= set(control_app.tasks)
    assert worker_app.tasks[names.EXECUTE_TRANSACTION].acks_late
    assert worker_app.tasks[names.EXECUTE_TRANSACTION_BATCH].acks_late
    assert worker_app.tasks[names.EXECUTE_PROBE].ignore_result
    # The judge's reports keep no result in Redis, whichever side says so.
    assert names.RECORD_JUDGE_REPORTS_IGNORE_RESULT
    assert control_app.tasks[names.RECORD_JUDGE_RESULT].ignore_result
    assert control_app.tasks[names.RECORD_SUBMISSION_STARTED].ignore_result


@pytest.mark.parametrize("name", [*EXECUTE, *RECORD, "ppipe_site.tasks.record_heartbeat"])
def test_both_apps_route_a_task_to_the_same_queue(name: str) -> None:
    queue = control_app.amqp.router.route({}, name)["queue"].name

    assert worker_app.amqp.router.route({}, name)["queue"].name == queue


def test_a_release_job_carries_the_upload_time_limits(settings: Any) -> None:
    settings.PPIPE_DISPATCH_TIME_LIMIT = 77
    lease = timezone.now() + timedelta(seconds=30)
    job: Any = {"transaction_id": 1}

    message = _taken(settings.CELERY_BROKER_URL, "dispatch", dispatch.tasks._send([job], lease))

    assert message["headers"]["task"] == names.EXECUTE_TRANSACTION_BATCH
    assert message["headers"]["timelimit"] == [87, 77]
    assert message["headers"]["ignore_result"] is False


def test_a_judge_job_goes_to_its_queue_with_its_time_limits(settings: Any) -> None:
    job: Any = {"limits": {"wall_seconds": 30}, "queue": "judge-hospital"}
    lease = timezone.now() + timedelta(seconds=30)

    judging.tasks._send(1, job, lease, "judge-task-1")
    message = _taken(settings.CELERY_BROKER_URL, "judge-hospital", "judge-task-1")

    assert message["headers"]["task"] == names.EXECUTE_JUDGE_JOB
    assert message["headers"]["timelimit"] == [120, 90]


def test_a_scheduled_probe_carries_no_clock_keeps_no_result_and_shows_no_secret(
    settings: Any,
) -> None:
    job: Any = {"probe_id": 3, "auth_header": "X-Key: secret"}

    probing.tasks._send(job)
    message = _taken(settings.CELERY_BROKER_URL, "probe", probe_task_id(3))

    assert message["headers"]["task"] == names.EXECUTE_PROBE
    # No time for a probe host to compare with its own clock: a skewed host would
    # hold every probe or drop it as expired. The reaper ends what no worker answered.
    assert message["headers"]["eta"] is None
    assert message["headers"]["expires"] is None
    assert message["headers"]["ignore_result"] is True
    assert "secret" not in message["headers"]["argsrepr"]
