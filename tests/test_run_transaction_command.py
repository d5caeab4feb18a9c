"""`manage.py run_transaction FILE.json` re-takes a release job with no database,
exactly as a dispatch worker would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.release_jobs import read_release, release_job, store_training_data, training_frame
from tests.servers import patience


def run_transaction(job_file: Path, artifacts: Path) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "ppipe_site.settings",
        # A database that does not exist: the command must not need one.
        "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none",
        "PPIPE_ARTIFACT_DIR": str(artifacts),
    }
    return subprocess.run(
        [sys.executable, "manage.py", "run_transaction", str(job_file)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120 * patience(),
    )


def test_a_job_file_is_executed_without_a_database(tmp_path: Path) -> None:
    digest = store_training_data(tmp_path / "artifacts")
    target = tmp_path / "dest" / "release-002.parquet"
    job_file = tmp_path / "job.json"
    job_file.write_text(
        json.dumps(
            release_job(
                digest,
                remote={"type": "local", "options": {}},
                path=str(target),
                start=40,
                stop=70,
                fmt="parquet",
            )
        )
    )

    completed = run_transaction(job_file, tmp_path / "artifacts")

    assert completed.returncode == 0, completed.stderr
    assert json.loads(completed.stdout)["ok"] is True
    assert read_release(target, "parquet").equals(
        training_frame().iloc[40:70].reset_index(drop=True)
    )
    assert "verified by size+md5" in completed.stderr


def test_a_failing_job_exits_non_zero_with_the_reason(tmp_path: Path) -> None:
    job_file = tmp_path / "job.json"
    job_file.write_text(
        json.dumps(release_job("0" * 64, remote={"type": "local", "options": {}}, path="x.csv"))
    )

    completed = run_transaction(job_file, tmp_path / "artifacts")

    assert completed.returncode != 0
    assert "is not in this worker's artifact store" in completed.stderr
