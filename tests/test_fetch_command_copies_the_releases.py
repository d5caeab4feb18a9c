"""The rclone line a student reads in their data section works: run as shown, with
only their credentials added by the flags it names, it copies the releases from
a real S3 or SFTP server (rclone serve on loopback) into a folder of theirs."""

from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from dispatch.models import Destination
from dispatch.student_data import destination_shown
from tests.servers import VENV_BIN, RcloneServer, obscure, patience
from worker_wing.release.remotes import SECRET_OPTIONS


@pytest.fixture(params=["s3", "sftp"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[RcloneServer]:
    folder = tmp_path / "served" / "course-bucket" / "iris"
    folder.mkdir(parents=True)
    (folder / "release-001.csv").write_text("x,label\n1,a\n")
    (folder / "release-002.csv").write_text("x,label\n2,b\n")
    started = RcloneServer(request.param, tmp_path / "served", user="ada", secret="pa55-word")
    yield started.start()
    started.stop()


def test_the_shown_command_with_the_students_credentials_copies_the_releases(
    server: RcloneServer, tmp_path: Path
) -> None:
    remote = server.remote()
    given = remote["options"]
    assert isinstance(given, dict)
    options = {str(k): str(v) for k, v in given.items()}
    destination = Destination(
        type=str(remote["type"]),
        path="course-bucket",
        options={k: v for k, v in options.items() if k not in SECRET_OPTIONS},
        secret_options={k: v for k, v in options.items() if k in SECRET_OPTIONS},
    )
    shown = destination_shown(destination, "course-bucket/iris", "iris")
    assert shown.fetch_command is not None
    assert "pa55-word" not in shown.fetch_command
    own = {
        "s3": ["--s3-access-key-id", "ada", "--s3-secret-access-key", "pa55-word"],
        "sftp": ["--sftp-pass", obscure("pa55-word")],
    }[destination.type]
    assert all(flag in str(shown.credentials) for flag in own if flag.startswith("--"))
    student = tmp_path / "student"
    student.mkdir()

    completed = subprocess.run(
        ["/bin/bash", "-c", f"{shown.fetch_command} {shlex.join(own)} --config /dev/null"],
        cwd=student,
        env={**os.environ, "PATH": f"{VENV_BIN}:{os.environ['PATH']}"},
        capture_output=True,
        text=True,
        timeout=60 * patience(),
    )

    assert completed.returncode == 0, completed.stderr
    assert sorted(p.name for p in (student / "iris").iterdir()) == [
        "release-001.csv",
        "release-002.csv",
    ]
    assert (student / "iris" / "release-002.csv").read_text() == "x,label\n2,b\n"
