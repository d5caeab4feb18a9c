"""A release job, executed with no database, puts exactly its rows at a local
destination and reports what the destination holds."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.release_jobs import read_release, release_job, store_training_data, training_frame
from worker_wing.content_store import ContentStore
from worker_wing.release.executor import execute_release_job
from worker_wing.release.rclone import Rclone

LOCAL = {"type": "local", "options": {}}


@pytest.mark.parametrize("fmt", ["csv", "parquet", "jsonl"])
def test_the_slice_arrives_row_for_row_in_each_format(tmp_path: Path, fmt: str) -> None:
    digest = store_training_data(tmp_path / "artifacts")
    target = tmp_path / "dest" / "challenge" / f"release-001.{fmt}"
    job = release_job(digest, remote=LOCAL, path=str(target), start=20, stop=60, fmt=fmt)

    result = execute_release_job(
        job, artifacts=ContentStore(tmp_path / "artifacts"), rclone=Rclone(), local_roots=None
    )

    assert result["ok"], result
    expected = training_frame().iloc[20:60].reset_index(drop=True)
    assert read_release(target, fmt)[expected.columns].equals(expected)
    assert result["bytes"] == target.stat().st_size
    assert result["md5"] == hashlib.md5(target.read_bytes()).hexdigest()  # noqa: S324
    assert result["verified"] == "size+md5"


def test_running_the_same_job_twice_leaves_one_identical_file(tmp_path: Path) -> None:
    digest = store_training_data(tmp_path / "artifacts")
    target = tmp_path / "dest" / "release-001.csv"
    job = release_job(digest, remote=LOCAL, path=str(target))
    store = ContentStore(tmp_path / "artifacts")

    first = execute_release_job(job, artifacts=store, rclone=Rclone(), local_roots=None)
    second = execute_release_job(job, artifacts=store, rclone=Rclone(), local_roots=None)

    assert first["sha256"] == second["sha256"]
    assert [p.name for p in target.parent.iterdir()] == ["release-001.csv"]
    assert len(read_release(target, "csv")) == 40


def test_a_malformed_job_is_a_permanent_failure_with_a_reason(tmp_path: Path) -> None:
    digest = store_training_data(tmp_path / "artifacts")
    job = release_job(digest, remote={"type": "ftp-ish", "options": {}}, path="/tmp/x.csv")

    result = execute_release_job(
        job, artifacts=ContentStore(tmp_path / "artifacts"), rclone=Rclone(), local_roots=None
    )

    assert result["ok"] is False
    assert result["transient"] is False
    assert "unknown destination type 'ftp-ish'" in result["error"]


def test_rows_beyond_the_training_data_are_refused(tmp_path: Path) -> None:
    digest = store_training_data(tmp_path / "artifacts")
    job = release_job(digest, remote=LOCAL, path=str(tmp_path / "x.csv"), start=90, stop=150)

    result = execute_release_job(
        job, artifacts=ContentStore(tmp_path / "artifacts"), rclone=Rclone(), local_roots=None
    )

    assert result["ok"] is False
    assert "exceed the 100 training rows" in result["error"]
