"""Release jobs reach real S3 and SFTP servers on loopback (rclone serve), are
verified there, and a refusing server ends in a readable, retryable failure."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.release_jobs import read_release, release_job, store_training_data, training_frame
from tests.servers import LOOPBACK, RcloneServer
from worker_wing.content_store import ContentStore
from worker_wing.release.batch import execute_release_batch
from worker_wing.release.executor import execute_release_job
from worker_wing.release.rclone import Rclone


@pytest.fixture(params=["s3", "sftp"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RcloneServer]:
    root = tmp_path / "served"
    (root / "course-bucket").mkdir(parents=True)
    started = RcloneServer(request.param, root, user="teacher", secret="s3cret-pass").start()
    yield started
    started.stop()


def test_the_release_arrives_and_is_verified(server: RcloneServer, tmp_path: Path) -> None:
    digest = store_training_data(tmp_path / "artifacts")
    job = release_job(
        digest, remote=server.remote(), path="course-bucket/iris/release-001.csv", stop=70
    )

    result = execute_release_job(
        job,
        artifacts=ContentStore(tmp_path / "artifacts"),
        rclone=Rclone(allowed_networks=LOOPBACK),
        local_roots=None,
    )

    assert result["ok"], result
    landed = read_release(server.root / "course-bucket" / "iris" / "release-001.csv", "csv")
    assert landed.equals(training_frame().iloc[:70].reset_index(drop=True))
    assert result["verified"] == "size+md5"


def test_bad_credentials_fail_readably_and_retryably_without_leaking_the_secret(
    server: RcloneServer, tmp_path: Path
) -> None:
    digest = store_training_data(tmp_path / "artifacts")
    job = release_job(
        digest, remote=server.remote(secret="wrong-password"), path="course-bucket/r.csv"
    )

    result = execute_release_job(
        job,
        artifacts=ContentStore(tmp_path / "artifacts"),
        rclone=Rclone(allowed_networks=LOOPBACK),
        local_roots=None,
    )

    assert result["ok"] is False
    assert result["transient"] is True
    assert result["error"]
    assert "wrong-password" not in result["error"]
    assert not (server.root / "course-bucket" / "r.csv").exists()


def test_a_batch_to_student_folders_arrives_verified_and_a_wrong_remote_fails_alone(
    server: RcloneServer, tmp_path: Path
) -> None:
    digest = store_training_data(tmp_path / "artifacts")
    jobs = [
        release_job(
            digest,
            remote=server.remote(),
            path=f"course-bucket/iris/student{n}/release-001.csv",
            stop=70,
            transaction_id=n + 1,
        )
        for n in range(4)
    ]
    jobs[2]["destination"]["remote"] = server.remote(secret="wrong-password")

    results = execute_release_batch(
        jobs,
        artifacts=ContentStore(tmp_path / "artifacts"),
        rclone=Rclone(allowed_networks=LOOPBACK),
        local_roots=None,
    )

    assert [result["ok"] for result in results] == [True, True, False, True]
    assert results[2]["transient"] is True
    assert "wrong-password" not in results[2]["error"]
    expected = training_frame().iloc[:70].reset_index(drop=True)
    for n in (0, 1, 3):
        assert results[n]["verified"] == "size+md5"
        landed = server.root / "course-bucket" / "iris" / f"student{n}" / "release-001.csv"
        assert read_release(landed, "csv").equals(expected)
    assert not (server.root / "course-bucket" / "iris" / "student2").exists()
