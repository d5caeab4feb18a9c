"""A real control worker keeps its PostgreSQL session from task to task (Celery's
Django fixup would close it after each one), and a session that dies under it
(a restarted database, here a terminated backend) is replaced at the next task
instead of failing it."""

from __future__ import annotations

from django.db import connection

from judging.tasks import record_submission_heartbeat
from tests.processes import WorkerProcess


def _worker_sessions() -> set[tuple[int, str]]:
    """Sessions on the test database other than this process's, as (pid, started)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid, backend_start::text FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        return {(int(pid), str(started)) for pid, started in cursor.fetchall()}


def _run_tasks(count: int) -> None:
    # Each one updates the submissions table (no row matches: nothing changes).
    for _ in range(count):
        assert record_submission_heartbeat.delay(0, 1).get(timeout=120) is False


def test_tasks_share_one_session(control_worker: WorkerProcess) -> None:
    _run_tasks(5)
    after_first = _worker_sessions()

    _run_tasks(10)

    assert len(after_first) == 1, f"the worker's sessions: {after_first}"
    assert _worker_sessions() == after_first


def test_a_dropped_session_is_replaced_without_failing_a_task(
    control_worker: WorkerProcess,
) -> None:
    _run_tasks(2)
    ((pid, _),) = _worker_sessions()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", [pid])

    _run_tasks(3)  # the first of them meets the dead session

    sessions = _worker_sessions()
    assert len(sessions) == 1
    assert pid not in {found for found, _ in sessions}
