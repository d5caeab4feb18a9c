"""A remote worker reads its settings without Django (worker_node/settings.py),
and its Celery app is configured without Django (worker_node/celery.py): from
one environment, both read the same values as the control side's settings, by
default and with every variable set."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

COMPARE = textwrap.dedent("""
    import json
    from django.conf import settings as control
    from kombu import Queue
    from worker_node.celery import celery_config
    from worker_node.settings import WorkerSettings

    worker = WorkerSettings.from_environ()
    pairs = {
        "PPIPE_ARTIFACT_DIR": (control.PPIPE_ARTIFACT_DIR, worker.artifact_dir),
        "PPIPE_DISPATCH_TIME_LIMIT": (
            control.PPIPE_DISPATCH_TIME_LIMIT, worker.dispatch_time_limit
        ),
        "PPIPE_DESTINATION_ALLOWED_NETWORKS": (
            control.PPIPE_DESTINATION_ALLOWED_NETWORKS, worker.destination_allowed_networks
        ),
        "PPIPE_RCLONE_USER": (control.PPIPE_RCLONE_USER, worker.rclone_user),
        "PPIPE_LOCAL_DESTINATION_ROOTS": (
            control.PPIPE_LOCAL_DESTINATION_ROOTS, worker.local_destination_roots
        ),
        "PPIPE_JUDGE_HEARTBEAT_SECONDS": (
            control.PPIPE_JUDGE_HEARTBEAT_SECONDS, worker.judge_heartbeat_seconds
        ),
        "PPIPE_SANDBOX": (control.PPIPE_SANDBOX, worker.sandbox.mode),
        "PPIPE_SANDBOX_PREWARM": (control.PPIPE_SANDBOX_PREWARM, worker.sandbox.prewarm),
        "PPIPE_BWRAP": (control.PPIPE_BWRAP, worker.sandbox.bwrap),
        "PPIPE_SANDBOX_TMPFS_MB": (control.PPIPE_SANDBOX_TMPFS_MB, worker.sandbox.tmpfs_mb),
        "PPIPE_SANDBOX_JOBS": (control.PPIPE_SANDBOX_JOBS, worker.sandbox.jobs_per_sandbox),
        "PPIPE_SANDBOX_KEPT": (control.PPIPE_SANDBOX_KEPT, worker.sandbox.kept_boxes),
        "PPIPE_JUDGE_WORK_DIR": (str(control.PPIPE_JUDGE_WORK_DIR), worker.sandbox.work_root),
        "PPIPE_SANDBOX_USER": (control.PPIPE_SANDBOX_USER, worker.sandbox.user),
        "PPIPE_CGROUP_ROOT": (control.PPIPE_CGROUP_ROOT, worker.sandbox.cgroup_root),
    }
    for key, value in celery_config(worker).items():
        pairs["CELERY_" + key.upper()] = (getattr(control, "CELERY_" + key.upper()), value)

    def shown(value):
        if isinstance(value, list):
            return [shown(item) for item in value]
        return value.name if isinstance(value, Queue) else str(value)

    print(json.dumps({
        key: [shown(a), shown(b)] for key, (a, b) in pairs.items() if shown(a) != shown(b)
    }))
""")

EVERY_VARIABLE_SET = {
    "CELERY_BROKER_URL": "redis://127.0.0.1:6390/3",
    "CELERY_RESULT_BACKEND": "redis://127.0.0.1:6390/4",
    "PPIPE_ARTIFACT_DIR": "/srv/ppipe/artifacts",
    "PPIPE_TASK_SOFT_TIME_LIMIT": "100",
    "PPIPE_TASK_TIME_LIMIT": "120",
    "PPIPE_VISIBILITY_TIMEOUT": "7200",
    "PPIPE_DISPATCH_TIME_LIMIT": "60",
    "PPIPE_DESTINATION_ALLOWED_NETWORKS": "10.1.0.0/16, 192.168.7.0/24",
    "PPIPE_RCLONE_USER": "someone",
    "PPIPE_LOCAL_DESTINATION_ROOTS": "/srv/a,/srv/b",
    "PPIPE_JUDGE_HEARTBEAT_SECONDS": "3",
    "PPIPE_JUDGE_LEASE_SECONDS": "9",
    "PPIPE_SANDBOX": "none",
    "PPIPE_SANDBOX_PREWARM": "off",
    "PPIPE_BWRAP": "/opt/bwrap",
    "PPIPE_SANDBOX_TMPFS_MB": "64",
    "PPIPE_SANDBOX_JOBS": "7",
    "PPIPE_SANDBOX_KEPT": "3",
    "PPIPE_JUDGE_WORK_DIR": "/srv/work",
    "PPIPE_SANDBOX_USER": "student-runner",
    "PPIPE_CGROUP_ROOT": "/ppipe",
}


@pytest.mark.parametrize("environment", [{}, EVERY_VARIABLE_SET], ids=["defaults", "every-set"])
def test_a_worker_reads_what_the_control_side_reads(
    environment: dict[str, str], tmp_path: Path
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", COMPARE],
        env={
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": ".",
            "DJANGO_SETTINGS_MODULE": "ppipe_site.settings",
            "PPIPE_VAR_DIR": str(tmp_path),
            **environment,
        },
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {}
