"""A quiet terminal: beat's ticks and the control worker's running of them log
nothing at INFO (they are DEBUG lines, shown with LOG_LEVEL=DEBUG), while
everything else a task logs at INFO still shows."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from foundation.heartbeat import heartbeat_last
from tests.processes import BeatProcess, WorkerProcess, running
from tests.servers import wait_until
from worker_node.logs import QuietTicksFilter, quiet_routine_tasks

TICKS = {"PPIPE_HEARTBEAT_SECONDS": "1", "LOG_LEVEL": "INFO"}


@pytest.mark.django_db(transaction=True)
def test_a_tick_logs_nothing_at_info_in_beat_or_the_worker() -> None:
    started = datetime.now(UTC)
    with running(WorkerProcess(["control"], **TICKS)) as worker:
        worker.wait_ready()
        with running(BeatProcess(**TICKS)) as beat:

            def ticked_twice() -> bool:
                last = heartbeat_last()
                return last is not None and (last - started).total_seconds() > 1

            wait_until(ticked_twice, timeout=60, what=f"two heartbeats\n{worker.log_tail()}")
            beat_log = beat.log_path.read_text()
        worker_log = worker.log_path.read_text()

    assert "Sending due task" not in beat_log
    assert "beat: Starting" in beat_log  # its other INFO lines still show
    # Celery's "received" and "succeeded" lines name a task with its id in brackets.
    assert "record_heartbeat[" not in worker_log
    assert f"{worker.name} ready." in worker_log


def test_log_level_debug_shows_the_ticks_again_as_debug_lines() -> None:
    quiet_routine_tasks(["ppipe_site.tasks.record_heartbeat"], own_lines=True)
    root = logging.getLogger()
    before = root.level
    record = logging.LogRecord(
        "celery.app.trace",
        logging.INFO,
        __file__,
        1,
        "Task %(name)s succeeded",
        ({"name": "ppipe_site.tasks.record_heartbeat"},),
        None,
    )
    try:
        root.setLevel(logging.INFO)
        assert QuietTicksFilter().filter(record) is False
        root.setLevel(logging.DEBUG)
        assert QuietTicksFilter().filter(record) is True
    finally:
        root.setLevel(before)
    assert record.levelname == "DEBUG"
