"""A batch of release jobs, executed with no database against a real rclone: the
copies go in one rclone call and the checks in another, every file is verified,
and each job gets its own result (one refused file fails only its own job)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pytest

from tests.release_jobs import read_release, release_job, store_training_data, training_frame
from worker_wing.content_store import ContentStore
from worker_wing.release.batch import execute_release_batch
from worker_wing.release.rclone import Rclone, RcloneDaemon

LOCAL = {"type": "local", "options": {}}


@pytest.fixture
def rc_calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The rc methods the daemons are called with, in order (the calls themselves run)."""
    calls: list[str] = []
    real_call = RcloneDaemon.call

    def counted(self: RcloneDaemon, method: str, body: dict[str, Any], **kwargs: Any) -> Any:
        calls.append(method)
        return real_call(self, method, body, **kwargs)

    monkeypatch.setattr(RcloneDaemon, "call", counted)
    return calls


def student_jobs(digest: str, root: Path, students: int) -> list[dict[str, Any]]:
    return [
        release_job(
            digest,
            remote=LOCAL,
            path=str(root / "challenge" / f"student{n}" / "release-001.csv"),
            transaction_id=n + 1,
        )
        for n in range(students)
    ]


def test_a_release_to_many_folders_is_one_copy_call_and_one_check_call(
    tmp_path: Path, rc_calls: list[str]
) -> None:
    digest = store_training_data(tmp_path / "artifacts")
    jobs = student_jobs(digest, tmp_path / "dest", 30)

    results = execute_release_batch(
        jobs, artifacts=ContentStore(tmp_path / "artifacts"), rclone=Rclone(), local_roots=None
    )

    assert rc_calls == ["job/batch", "job/batch"]
    assert [result["transaction_id"] for result in results] == list(range(1, 31))
    expected = training_frame().iloc[0:40].reset_index(drop=True)
    for n, result in enumerate(results):
        landed = tmp_path / "dest" / "challenge" / f"student{n}" / "release-001.csv"
        assert result["ok"], result
        assert result["verified"] == "size+md5"
        assert result["md5"] == hashlib.md5(landed.read_bytes()).hexdigest()  # noqa: S324
        assert read_release(landed, "csv")[expected.columns].equals(expected)


def test_a_refused_path_fails_only_its_own_job(tmp_path: Path, rc_calls: list[str]) -> None:
    digest = store_training_data(tmp_path / "artifacts")
    jobs = student_jobs(digest, tmp_path / "dest", 5)
    jobs[1]["destination"]["path"] = str(tmp_path / "dest" / ".." / "escape.csv")
    # rclone itself refuses this one: a file stands where its folder should be.
    (tmp_path / "dest" / "challenge").mkdir(parents=True)
    (tmp_path / "dest" / "challenge" / "student3").write_text("in the way")

    results = execute_release_batch(
        jobs,
        artifacts=ContentStore(tmp_path / "artifacts"),
        rclone=Rclone(),
        local_roots=[tmp_path / "dest"],
    )

    assert [result["ok"] for result in results] == [True, False, True, False, True]
    assert results[1]["transient"] is False
    assert "'..'" in results[1]["error"]
    assert results[3]["transient"] is True
    assert results[3]["transaction_id"] == 4
    assert not (tmp_path / "escape.csv").exists()
    assert rc_calls == ["job/batch", "job/batch"]


def test_a_file_that_arrives_wrong_fails_its_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    digest = store_training_data(tmp_path / "artifacts")
    jobs = student_jobs(digest, tmp_path / "dest", 3)
    real_copy = Rclone.copy_files

    def copy_then_corrupt(self: Rclone, uploads: list[Any]) -> list[Any]:
        outcomes = real_copy(self, uploads)
        Path(uploads[2].path).write_text("truncated")
        return outcomes

    monkeypatch.setattr(Rclone, "copy_files", copy_then_corrupt)

    results = execute_release_batch(
        jobs, artifacts=ContentStore(tmp_path / "artifacts"), rclone=Rclone(), local_roots=None
    )

    assert [result["ok"] for result in results] == [True, True, False]
    assert "instead of" in results[2]["error"]
    assert results[2]["transient"] is True
