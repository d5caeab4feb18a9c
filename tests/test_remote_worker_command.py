"""`ppipe-worker`: one command starts a worker for chosen queues on any machine,
named by its queues and host, and a worker of the remote queues refuses to hold
database credentials."""

from __future__ import annotations

import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from typing import Any

import pytest

from foundation.celery import app
from tests.processes import process_env
from tests.servers import patience, stop_process, wait_until
from worker_node.command import WorkerConfigError, worker_argv


def test_a_probe_worker_runs_threads_and_is_named_by_queue_and_host() -> None:
    argv = worker_argv(["probe"], host="lab-07", concurrency=None, environ={})

    assert argv[argv.index("-n") + 1] == "probe@lab-07"
    assert argv[argv.index("--pool") + 1] == "threads"
    assert argv[argv.index("-Q") + 1] == "probe"


@pytest.mark.parametrize(
    ("queues", "environ", "says"),
    [
        (["judge"], {"DATABASE_URL": "postgres://ppipe:pw@db/ppipe"}, "unset DATABASE_URL"),
        (["judge", "grading"], {}, "Unknown queue(s) grading"),
        ([], {}, "(none given)"),
        (["control", "judge"], {"DATABASE_URL": "postgres://db"}, "worker of its own"),
    ],
)
def test_a_worker_that_should_not_start_says_why(
    queues: list[str], environ: dict[str, str], says: str
) -> None:
    with pytest.raises(WorkerConfigError) as raised:
        worker_argv(queues, host="lab-07", concurrency=None, environ=environ)

    assert says in str(raised.value)


def test_the_command_refuses_database_credentials_on_a_judge_machine() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "worker_node.command", "--queues", "judge"],
        env=process_env(),  # carries the test database's URL
        capture_output=True,
        text=True,
        timeout=60 * patience(),
    )

    assert run.returncode != 0
    assert "must not hold database credentials" in run.stderr


@pytest.mark.django_db
def test_a_worker_started_by_the_command_serves_its_queues_without_a_database() -> None:
    host = f"lab-{uuid.uuid4().hex[:6]}"
    env = process_env()
    del env["DATABASE_URL"]
    log = Path(tempfile.mkstemp(prefix="ppipe-remote-worker-", suffix=".log")[1])
    with log.open("wb") as out:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "worker_node.command",
                "--queues",
                "dispatch,probe",
                "--host",
                host,
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    name = f"dispatch+probe@{host}"
    try:
        wait_until(
            lambda: f"{name} ready." in log.read_text(errors="replace"),
            timeout=60,
            what=f"worker {name}",
        )
        # "ready." can be logged before the worker's broadcast queue is bound, and a
        # broadcast sent then reaches nobody: ask again until it answers. One reply is
        # all that is awaited (limit=1 returns on it).
        queues: dict[str, Any] = {}

        def answered() -> bool:
            inspect = app.control.inspect(destination=[name], timeout=10, limit=1)
            queues.update(inspect.active_queues() or {})
            return name in queues

        wait_until(answered, timeout=120, what=f"an answer from worker {name}")
    finally:
        stop_process(process)

    # And a queue of its own, where a job can be sent to it alone (worker_direct).
    assert {queue["name"] for queue in queues[name]} == {"dispatch", "probe", f"{name}.dq2"}
