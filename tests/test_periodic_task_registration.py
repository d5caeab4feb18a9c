"""Periodic tasks are declared in one place and registered into django-celery-beat."""

from __future__ import annotations

import pytest
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from foundation.heartbeat import heartbeat_last
from foundation.periodic import NAME_PREFIX, declared_periodic_jobs, register_periodic_tasks
from tests.processes import BeatProcess, WorkerProcess, running
from tests.servers import wait_until


@pytest.mark.django_db
def test_every_declared_task_is_registered_with_an_expiry() -> None:
    register_periodic_tasks()

    for job in declared_periodic_jobs():
        entry = PeriodicTask.objects.get(name=job.entry_name)
        assert entry.task == job.task
        assert entry.queue == job.queue
        assert entry.expire_seconds == job.expires_seconds > 0
        assert entry.enabled


@pytest.mark.django_db
def test_registering_again_keeps_an_operators_edits_and_disables_undeclared_entries() -> None:
    register_periodic_tasks()
    entry = PeriodicTask.objects.get(name=NAME_PREFIX + "heartbeat")
    entry.interval = IntervalSchedule.objects.create(every=7, period=IntervalSchedule.SECONDS)
    entry.enabled = False
    entry.expire_seconds = 99999
    entry.save()
    stale = PeriodicTask.objects.create(
        name=NAME_PREFIX + "retired", task="ppipe_site.tasks.gone", interval=entry.interval
    )

    register_periodic_tasks()

    entry.refresh_from_db()
    assert entry.interval.every == 7
    assert not entry.enabled
    assert entry.expire_seconds != 99999
    stale.refresh_from_db()
    assert not stale.enabled


@pytest.mark.django_db(transaction=True)
def test_beat_process_registers_its_schedule_and_the_heartbeat_reaches_the_worker() -> None:
    with (
        running(WorkerProcess(["control"]).wait_ready()),
        running(BeatProcess(PPIPE_HEARTBEAT_SECONDS="1")) as beat,
    ):
        wait_until(
            lambda: PeriodicTask.objects.filter(name=NAME_PREFIX + "heartbeat").exists(),
            timeout=60,
            what=f"beat to register its schedule\n{beat.log_tail()}",
        )
        before = heartbeat_last()
        wait_until(
            lambda: heartbeat_last() not in (None, before),
            timeout=60,
            what="a heartbeat sent by beat",
        )
