"""A remote worker runs without Django: a probe worker started as the tests start
every remote worker (`python -m worker_node`, as ppipe-worker and `make run` do)
imports nothing of the control side, from its start to the end of a job it ran.

Python reports every import of the process (PYTHONPROFILEIMPORTTIME), those of
the task included, in the worker's log."""

from __future__ import annotations

import pytest
from django.conf import settings

from probing.tasks import run_probe_now
from tests.judge_platform import NO_DATABASE
from tests.probe_servers import unreachable_probe_job
from tests.processes import WorkerProcess
from tests.servers import free_port
from worker_wing.jobs import ProbeJobMessage

CONTROL_SIDE = (
    "django", "rest_framework", "ppipe_site", "challenges", "dispatch", "judging",
    "probing", "receipts", "grades", "notifications", "retention",
)  # fmt: skip


def _imported(log: str) -> list[str]:
    # "import time:  self [us] | cumulative | imported package", indented by depth.
    return [
        line.rsplit("|", 1)[1].strip()
        for line in log.splitlines()
        if line.startswith("import time:")
    ]


def _probe_of_nothing() -> ProbeJobMessage:
    return unreachable_probe_job(515151, 5151, free_port())


@pytest.mark.django_db(transaction=True)
def test_a_remote_worker_runs_a_job_without_loading_django() -> None:
    worker = WorkerProcess(
        ["probe"],
        pool="threads",
        concurrency=2,
        DATABASE_URL=NO_DATABASE,
        PPIPE_ARTIFACT_DIR=str(settings.PPIPE_ARTIFACT_DIR),
        PYTHONPROFILEIMPORTTIME="1",
    ).wait_ready()
    try:
        result = run_probe_now(_probe_of_nothing(), wait_seconds=30)
    finally:
        worker.stop()
    imported = _imported(worker.log_path.read_text(errors="replace"))

    assert result["outcome"] == "unreachable", result
    # The job's own imports were seen: the executor is imported when a job arrives.
    assert "worker_wing.probe.executor" in imported
    assert "celery" in imported
    # Loading any module of a package loads the package first, under its own name;
    # Python also lists imports that were refused, by their full name (kombu asks
    # for django.utils.functional, and worker_node/celery.py refuses it).
    assert [name for name in imported if name in CONTROL_SIDE] == [], worker.log_path
