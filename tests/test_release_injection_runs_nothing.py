"""Shell syntax in a challenge name, a destination path or a remote option runs
nothing: rclone gets argument lists, and unsafe values are refused up front."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.release_jobs import release_job, store_training_data
from worker_wing.content_store import ContentStore
from worker_wing.release.executor import execute_release_job
from worker_wing.release.rclone import Rclone
from worker_wing.release.remotes import RemoteError, check_option_value, check_path


@pytest.mark.parametrize(
    "path",
    [
        "$(touch {marker})/r.csv",
        "a;touch {marker}/r.csv",
        "`touch {marker}`.csv",
        "../../etc/r.csv",
        "-rf/r.csv",
    ],
)
def test_a_hostile_destination_path_is_refused_and_runs_nothing(tmp_path: Path, path: str) -> None:
    marker = tmp_path / "pwned"
    digest = store_training_data(tmp_path / "artifacts")
    job = release_job(
        digest, remote={"type": "local", "options": {}}, path=path.format(marker=marker)
    )

    result = execute_release_job(
        job, artifacts=ContentStore(tmp_path / "artifacts"), rclone=Rclone(), local_roots=None
    )

    assert result["ok"] is False
    assert result["transient"] is False
    assert "destination path" in result["error"]
    assert not marker.exists()


def test_a_hostile_option_value_reaches_rclone_as_plain_text_only(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    digest = store_training_data(tmp_path / "artifacts")
    # A valid option with shell syntax in its value: passed through the
    # environment, never a shell, so nothing runs; the upload itself works.
    remote = {"type": "local", "options": {"description": f"$(touch {marker}); `touch {marker}`"}}
    job = release_job(digest, remote=remote, path=str(tmp_path / "dest" / "r.csv"))

    result = execute_release_job(
        job, artifacts=ContentStore(tmp_path / "artifacts"), rclone=Rclone(), local_roots=None
    )

    assert result["ok"], result
    assert not marker.exists()


def test_control_characters_and_bad_option_names_are_refused() -> None:
    with pytest.raises(RemoteError, match="control character"):
        check_option_value("endpoint", "http://x\n--config=/etc/passwd")
    with pytest.raises(RemoteError, match="not allowed"):
        check_path("bucket/pre fix")
    assert check_path("/srv/releases//course-1/") == "/srv/releases/course-1"
