"""On a worker started as root, the rclone that talks to a teacher's destination
host runs as an unprivileged user with none of the worker's secrets in its
environment, and the release still arrives and is verified."""

from __future__ import annotations

import os
import pwd
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psutil
import pytest

from ppipe_site.system_packages import RCLONE_USER
from tests.release_jobs import release_job, store_training_data
from tests.servers import LOOPBACK, RcloneServer
from worker_wing.content_store import ContentStore
from worker_wing.release.batch import execute_release_batch
from worker_wing.release.executor import execute_release_job
from worker_wing.release.rclone import Rclone, RcloneDaemon


@pytest.fixture
def own_daemons(
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[dict[Any, RcloneDaemon]]:
    """Daemons started by this test alone, so they see the environment it sets."""
    daemons: dict[Any, RcloneDaemon] = {}
    monkeypatch.setattr(Rclone, "_daemons", daemons)
    yield daemons
    for daemon in daemons.values():
        daemon.close()


def test_the_upload_runs_as_the_release_user_without_the_worker_secrets(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    own_daemons: dict[Any, RcloneDaemon],
) -> None:
    assert os.geteuid() == 0, "the judge and dispatch tests run as root, as CI does"
    monkeypatch.setenv("PPIPE_ADMIN_PASSWORD", "admin-password-of-the-worker")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "the-worker-own-cloud-key")
    root = tmp_path / "served"
    (root / "bucket").mkdir(parents=True)
    server = RcloneServer("s3", root, user="teacher", secret="s3cret-pass").start()
    try:
        digest = store_training_data(tmp_path / "artifacts")
        job = release_job(digest, remote=server.remote(), path="bucket/r.csv")
        result = execute_release_job(
            job,
            artifacts=ContentStore(tmp_path / "artifacts"),
            rclone=Rclone(allowed_networks=LOOPBACK, run_as=RCLONE_USER),
            local_roots=None,
        )
    finally:
        server.stop()

    assert result["ok"], result
    assert (root / "bucket" / "r.csv").exists()
    [daemon] = own_daemons.values()
    assert daemon.process is not None
    process = psutil.Process(daemon.process.pid)
    assert process.uids().real == process.uids().effective == pwd.getpwnam(RCLONE_USER).pw_uid
    environment = process.environ()
    assert "PPIPE_ADMIN_PASSWORD" not in environment
    assert "AWS_SECRET_ACCESS_KEY" not in environment
    assert not any("admin-password-of-the-worker" in value for value in environment.values())


def test_local_folders_keep_the_worker_user_that_can_write_them(
    tmp_path: Path, own_daemons: dict[Any, RcloneDaemon]
) -> None:
    digest = store_training_data(tmp_path / "artifacts")
    target = tmp_path / "releases" / "r.csv"
    job = release_job(digest, remote={"type": "local", "options": {}}, path=str(target))

    result = execute_release_job(
        job,
        artifacts=ContentStore(tmp_path / "artifacts"),
        rclone=Rclone(run_as=RCLONE_USER),
        local_roots=[tmp_path / "releases"],
    )

    assert result["ok"], result
    assert target.exists()
    [key] = own_daemons
    assert key[1] is None  # the local daemon is not the release user's


def test_a_batch_uploads_as_the_release_user_and_leaves_no_staged_copy(
    tmp_path: Path, own_daemons: dict[Any, RcloneDaemon]
) -> None:
    root = tmp_path / "served"
    (root / "bucket").mkdir(parents=True)
    server = RcloneServer("s3", root, user="teacher", secret="s3cret-pass").start()
    try:
        digest = store_training_data(tmp_path / "artifacts")
        jobs = [
            release_job(digest, remote=server.remote(), path=f"bucket/s{n}/r.csv", transaction_id=n)
            for n in range(3)
        ]
        results = execute_release_batch(
            jobs,
            artifacts=ContentStore(tmp_path / "artifacts"),
            rclone=Rclone(allowed_networks=LOOPBACK, run_as=RCLONE_USER),
            local_roots=None,
        )
    finally:
        server.stop()

    assert [result["ok"] for result in results] == [True, True, True]
    assert all((root / "bucket" / f"s{n}" / "r.csv").exists() for n in range(3))
    [daemon] = own_daemons.values()
    assert daemon.process is not None
    assert psutil.Process(daemon.process.pid).uids().effective == pwd.getpwnam(RCLONE_USER).pw_uid
    assert [path.name for path in daemon.folder.iterdir() if path.name.startswith("upload-")] == []
