"""The multi-host fault suite (tests/fault/run.py), run as its own process: its
platform has a PostgreSQL and a Redis of its own on a namespaced broker host,
not the test database. Every scenario must end with every submission scored
exactly once, every release transaction due done exactly once and no probe
stuck; where a judge host dies or is cut off, the fault must have hit a running
job (one was judged again)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.servers import patience

ROOT = Path(__file__).resolve().parents[2]
# The suite's own servers and settings: nothing of the test run's may leak in.
TEST_RUN_ONLY = ("DATABASE_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "PPIPE_VAR_DIR")


@pytest.mark.skipif(os.geteuid() != 0, reason="network namespaces need root (CI runs as root)")
def test_no_job_is_lost_or_judged_twice_whatever_fails() -> None:
    env = {k: v for k, v in os.environ.items() if k not in TEST_RUN_ONLY}
    env["DJANGO_SETTINGS_MODULE"] = "ppipe_site.settings"
    run = subprocess.run(
        [sys.executable, "-m", "tests.fault.run"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=900 * patience(),
        check=False,
    )
    print(run.stdout)  # the table, in the test's output

    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-4000:]
    results = re.findall(
        r"^(\S+)\s+jobs\s+(\d+)\s+lost\s+(\d+)\s+duplicated\s+(\d+)\s+retried\s+(\d+)"
        r".*releases\s+(\d+) lost (\d+) duplicated (\d+)\s+probes\s+(\d+) stuck (\d+)",
        run.stdout,
        re.MULTILINE,
    )
    assert {name for name, *_ in results} == {
        "kill-judge",
        "cut-judge",
        "restart-redis",
        "restart-postgres",
        "two-beats",
        "clock-skew",
    }
    for name, jobs, lost, duplicated, retried, *others in results:
        releases, releases_lost, releases_duplicated, probes, probes_stuck = map(int, others)
        assert int(jobs) == 4, name
        assert (int(lost), int(duplicated)) == (0, 0), name
        if name in ("kill-judge", "cut-judge"):  # the fault must have hit a running job
            assert int(retried) >= 1, f"{name}: the fault hit no job"
        # The release and probe schedules ran through the fault too.
        assert releases >= 1, name
        assert (releases_lost, releases_duplicated) == (0, 0), name
        assert probes >= 1, name
        assert probes_stuck == 0, name
