"""A task goes through the real broker to a real worker process and back."""

from __future__ import annotations

import pytest
from django.test import Client

from foundation.heartbeat import heartbeat_last
from ppipe_site.tasks import record_heartbeat
from tests.processes import WorkerProcess


@pytest.mark.django_db(transaction=True)
def test_worker_process_runs_a_task_sent_through_redis(control_worker: WorkerProcess) -> None:
    result = record_heartbeat.delay()

    recorded_at = result.get(timeout=30)

    assert heartbeat_last() is not None
    assert heartbeat_last().isoformat() == recorded_at
    health = Client().get("/healthz").json()
    assert health["heartbeat_age_seconds"] is not None
    assert health["heartbeat_age_seconds"] < 30


def test_remote_jobs_are_routed_to_their_queues() -> None:
    from foundation.celery import app

    router = app.amqp.router
    assert router.route({}, "dispatch.tasks.execute_transaction")["queue"].name == "dispatch"
    assert router.route({}, "judging.tasks.execute_judge_job")["queue"].name == "judge"
    assert router.route({}, "probing.tasks.execute_probe")["queue"].name == "probe"
    assert router.route({}, "ppipe_site.tasks.record_heartbeat")["queue"].name == "control"
