"""A judge worker's process starts its sandbox's nursery as it starts, before any
job: the nursery's imports overlap the wait for work instead of delaying the first
student judged after a worker starts."""

from __future__ import annotations

from pathlib import Path

import psutil

from tests.processes import WorkerProcess, process_env, running
from tests.servers import wait_until
from worker_node.judge_warmup import judges


def _nurseries_under(pid: int) -> list[psutil.Process]:
    found = []
    for process in psutil.Process(pid).children(recursive=True):
        try:
            if any(part.endswith("sandbox_runner.py") for part in process.cmdline()):
                found.append(process)
        except psutil.NoSuchProcess:
            continue
    return found


def test_a_judge_worker_starts_its_nursery_before_its_first_job(tmp_path: Path) -> None:
    worker = WorkerProcess(["judge"], **process_env(PPIPE_JUDGE_WORK_DIR=str(tmp_path)))
    with running(worker):
        worker.wait_ready()
        # No job is ever sent to this worker.
        wait_until(
            lambda: bool(_nurseries_under(worker.pid)),
            timeout=120,
            what="the judge process's nursery to start",
        )


def test_only_workers_of_a_judge_queue_warm_a_sandbox() -> None:
    assert judges(["judge"])
    assert judges(["judge-hospital", "celery@lab.dq2"])
    assert not judges(["dispatch"])
    assert not judges(["probe", "judge-"])
