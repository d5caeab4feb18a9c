"""Logs carry job ids: a record logged while a task runs names the task and the
job it works on, as JSON fields with LOG_FORMAT=json, in a real worker process."""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import pytest
from celery.signals import task_postrun, task_prerun

from foundation.celery import app
from tests.judge_platform import NO_DATABASE
from tests.probe_servers import unreachable_probe_job
from tests.processes import WorkerProcess
from tests.servers import free_port, wait_until
from worker_node import names
from worker_node.logs import JobContextFilter, json_formatter


class _Task:
    name = "judging.tasks.execute_judge_job"


def _logged(fmt: logging.Formatter) -> str:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(fmt)
    handler.addFilter(JobContextFilter())
    logger = logging.getLogger("ppipe.test.structured")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        task_prerun.send(
            sender=None, task_id="t-1", task=_Task(), args=({"submission_id": 7, "attempt": 2},)
        )
        logger.warning("judging")
        task_postrun.send(sender=None)
        logger.warning("between tasks")
    finally:
        logger.removeHandler(handler)
    return out.getvalue()


def test_a_record_in_a_task_carries_the_task_and_job_ids_as_json() -> None:
    inside, outside = (json.loads(line) for line in _logged(json_formatter()).splitlines())

    assert inside["message"] == "judging"
    assert inside["task_id"] == "t-1"
    assert inside["task_name"] == "judging.tasks.execute_judge_job"
    assert inside["submission_id"] == 7
    assert inside["attempt"] == 2
    assert outside["task_id"] is None


def test_plain_text_shows_the_ids_as_a_prefix() -> None:
    fmt = logging.Formatter("%(job)s%(message)s")

    inside, outside = _logged(fmt).splitlines()

    prefix = "[task_id=t-1 task_name=judging.tasks.execute_judge_job submission_id=7 attempt=2]"
    assert inside == f"{prefix} judging"
    assert outside == "between tasks"


@pytest.mark.django_db(transaction=True)
def test_a_probe_workers_json_log_names_the_probe_it_ran() -> None:
    worker = WorkerProcess(
        ["probe"], pool="threads", concurrency=2, DATABASE_URL=NO_DATABASE, LOG_FORMAT="json"
    ).wait_ready()
    job = unreachable_probe_job(424242, 4242, free_port())
    try:
        sent = app.send_task(names.EXECUTE_PROBE, args=(job,))

        def logged() -> list[dict[str, Any]]:
            lines = worker.log_path.read_text(errors="replace").splitlines()
            records = [json.loads(line) for line in lines if line.startswith("{")]
            return [r for r in records if r.get("task_id") == sent.id]

        wait_until(
            lambda: any("succeeded" in r["message"] for r in logged()),
            timeout=30,
            what="the probe task's log",
        )
    finally:
        worker.stop()

    records = logged()
    assert all(r["probe_id"] == 424242 and r["endpoint_id"] == 4242 for r in records)
    assert records[0]["task_name"] == "probing.tasks.execute_probe"
