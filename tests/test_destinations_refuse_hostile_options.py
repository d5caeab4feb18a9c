"""A hostile teacher cannot run commands, read files, borrow the worker's own
credentials or change a destination's backend through rclone options: the API
and the admin form refuse each such option by name, and a worker refuses a job
built by hand with one, with real rclone and nothing run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from dispatch.models import Destination
from tests.factories import TeacherFactory
from tests.release_jobs import release_job, store_training_data
from worker_wing.content_store import ContentStore
from worker_wing.release.executor import execute_release_job
from worker_wing.release.rclone import Rclone

HOSTILE = [
    ("webdav", {"url": "https://dav.example.org", "bearer_token_command": "sh -c 'touch {m}'"},
     "bearer_token_command", "runs a command on the worker"),
    ("sftp", {"host": "sftp.example.org", "ssh": "sh -c 'touch {m}'"},
     "ssh", "runs a command on the worker"),
    ("sftp", {"host": "sftp.example.org", "key_file": "/etc/shadow"},
     "key_file", "reads a file on the worker"),
    ("s3", {"provider": "AWS", "env_auth": "true"},
     "env_auth", "uses the worker's own credentials"),
    ("webdav", {"url": "https://dav.example.org", "headers": "Host,internal"},
     "headers", "sends requests somewhere other than the destination"),
    ("s3", {"provider": "Other", "type": "local"}, "type", "changes the backend"),
    ("s3", {"provider": "Other", "config": "/root/.config/rclone/rclone.conf"},
     "config", "reads a file on the worker"),
    ("sftp", {"host": "sftp.example.org", "md5sum_command": "touch {m}"},
     "md5sum_command", "may only be one of"),
]  # fmt: skip


def _api(teacher: Any) -> APIClient:
    client = APIClient()
    client.force_authenticate(teacher)
    return client


@pytest.mark.django_db
@pytest.mark.parametrize(("backend", "params", "option", "why"), HOSTILE)
def test_the_api_refuses_the_option_by_name_and_saves_nothing(
    tmp_path: Path, backend: str, params: dict[str, str], option: str, why: str
) -> None:
    marker = tmp_path / "ran"
    body = {
        "name": "evil",
        "type": backend,
        "path": "course",
        "params": {name: value.format(m=marker) for name, value in params.items()},
    }

    response = _api(TeacherFactory()).post("/api/destinations/", body, format="json")

    assert response.status_code == 400, response.content
    message = " ".join(response.json()["errors"]["params"])
    assert repr(option) in message
    assert why in message
    assert not Destination.objects.exists()
    assert not marker.exists()


@pytest.mark.django_db
def test_the_admin_form_refuses_a_command_option(teacher_client: Client) -> None:
    response = teacher_client.post(
        "/admin/dispatch/destination/add/",
        {
            "name": "evil",
            "type": "webdav",
            "path": "course",
            "options_text": "url=https://dav.example.org\nbearer_token_command=id",
            "secrets_text": "",
        },
    )

    assert response.status_code == 200
    assert "&#x27;bearer_token_command&#x27; is not allowed" in response.content.decode()
    assert not Destination.objects.exists()


@pytest.mark.django_db
def test_an_option_the_backend_does_not_have_is_refused_with_the_allowed_ones() -> None:
    body = {"name": "x", "type": "s3", "path": "b", "params": {"url": "https://x.example.org"}}

    response = _api(TeacherFactory()).post("/api/destinations/", body, format="json")

    assert response.status_code == 400
    message = " ".join(response.json()["errors"]["params"])
    assert "'url' is not one a s3 destination may set" in message
    assert "endpoint" in message


@pytest.mark.parametrize(("backend", "params", "option", "why"), HOSTILE)
def test_a_worker_refuses_a_hand_built_job_and_runs_nothing(
    tmp_path: Path, backend: str, params: dict[str, str], option: str, why: str
) -> None:
    marker = tmp_path / "ran"
    digest = store_training_data(tmp_path / "artifacts")
    options = {name: value.format(m=marker) for name, value in params.items()}
    job = release_job(digest, remote={"type": backend, "options": options}, path="course/r.csv")

    result = execute_release_job(
        job, artifacts=ContentStore(tmp_path / "artifacts"), rclone=Rclone(), local_roots=None
    )

    assert result["ok"] is False
    assert result["transient"] is False
    assert repr(option) in result["error"]
    assert why in result["error"]
    assert not marker.exists()


def test_a_type_key_cannot_turn_a_bucket_into_a_folder_outside_the_roots(tmp_path: Path) -> None:
    digest = store_training_data(tmp_path / "artifacts")
    outside = tmp_path / "outside"
    job = release_job(
        digest,
        remote={"type": "s3", "options": {"provider": "Other", "type": "local"}},
        path=f"{outside}/r.csv",
    )

    result = execute_release_job(
        job,
        artifacts=ContentStore(tmp_path / "artifacts"),
        rclone=Rclone(),
        local_roots=[tmp_path / "releases"],
    )

    assert result["ok"] is False
    assert "changes the backend" in result["error"]
    assert not outside.exists()


def test_a_symbolic_link_inside_a_root_does_not_carry_a_release_outside(tmp_path: Path) -> None:
    digest = store_training_data(tmp_path / "artifacts")
    root, outside = tmp_path / "releases", tmp_path / "etc"
    root.mkdir()
    outside.mkdir()
    # A student with write access to a shared release folder plants a link.
    (root / "course").symlink_to(outside)
    job = release_job(digest, remote={"type": "local", "options": {}}, path=f"{root}/course/r.csv")

    result = execute_release_job(
        job, artifacts=ContentStore(tmp_path / "artifacts"), rclone=Rclone(), local_roots=[root]
    )

    assert result["ok"] is False
    assert "outside the folders releases may be written to" in result["error"]
    assert list(outside.iterdir()) == []
