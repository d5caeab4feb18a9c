"""Beat asks the database whether the schedule changed at most every few seconds,
not at every look at it, and still sees an operator's change at the next ask."""

from __future__ import annotations

from typing import Any

import pytest
from django_celery_beat.models import IntervalSchedule, PeriodicTask, PeriodicTasks

from foundation import beat
from foundation.celery import app

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_change_is_seen_at_the_next_ask_and_no_query_is_made_between(
    monkeypatch: Any, django_assert_num_queries: Any
) -> None:
    clock = [1000.0]
    monkeypatch.setattr(beat.time, "monotonic", lambda: clock[0])
    scheduler = beat.PpipeDatabaseScheduler(app=app, lazy=True)
    PeriodicTasks.update_changed()  # as registering beat's tasks leaves it
    scheduler.schedule_changed()  # the first ask: notes the schedule's last change
    every = IntervalSchedule.objects.create(every=7, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.create(name="an operator's task", task="x.y", interval=every)
    PeriodicTasks.update_changed()

    clock[0] += beat.CHANGE_CHECK_SECONDS / 2
    with django_assert_num_queries(0):
        assert not scheduler.schedule_changed()  # too soon to ask: not even a query

    clock[0] += beat.CHANGE_CHECK_SECONDS
    assert scheduler.schedule_changed()  # asked, and the change is there
