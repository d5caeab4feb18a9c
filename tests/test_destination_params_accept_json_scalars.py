"""Destination params take JSON true/false and numbers where rclone takes them
(stored as rclone's text, "true" and "5"), in the API and in the admin form, and
real rclone acts on them; objects, lists, null, and a true/false or number for a
text option are refused with a message naming the option."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from dispatch.jobs import remote_for
from dispatch.models import Destination
from tests.factories import TeacherFactory
from tests.release_jobs import release_job, store_training_data
from tests.servers import LOOPBACK, RcloneServer
from worker_wing.content_store import ContentStore
from worker_wing.release.executor import execute_release_job
from worker_wing.release.rclone import Rclone


def _post(params: dict[str, Any], *, path: str = "course-bucket") -> Any:
    client = APIClient()
    client.force_authenticate(TeacherFactory())
    body = {"name": "bucket", "type": "s3", "path": path, "params": params}
    return client.post("/api/destinations/", body, format="json")


@pytest.mark.django_db
def test_the_api_stores_booleans_and_numbers_as_rclone_text() -> None:
    params = {"provider": "AWS", "force_path_style": True, "chunk_size": 5, "v2_auth": False}

    response = _post(params)

    assert response.status_code == 201, response.content
    expected = {
        "provider": "AWS",
        "force_path_style": "true",
        "chunk_size": "5",
        "v2_auth": "false",
    }
    assert response.json()["params"] == expected
    assert Destination.objects.get().options == expected


@pytest.mark.django_db
def test_the_admin_form_takes_a_json_object_with_scalars(teacher_client: Client) -> None:
    response = teacher_client.post(
        "/admin/dispatch/destination/add/",
        {
            "name": "bucket",
            "type": "s3",
            "path": "course-bucket",
            "options_text": '{"provider": "AWS", "force_path_style": true, "chunk_size": 5}',
            "secrets_text": "",
        },
    )

    assert response.status_code == 302, response.content.decode()[-2000:]
    stored = Destination.objects.get().options
    assert stored == {"provider": "AWS", "force_path_style": "true", "chunk_size": "5"}


SCALARS_ONLY = "must be text, a number or true/false"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"provider": {"name": "AWS"}}, f"'provider' {SCALARS_ONLY}, not an object"),
        ({"region": ["eu-west-1"]}, f"'region' {SCALARS_ONLY}, not a list"),
        ({"region": None}, f"'region' {SCALARS_ONLY}, not null"),
        ({"region": True}, "'region' takes text, not true"),
        ({"max_upload_parts": 2.5}, "'max_upload_parts' takes a whole number, not 2.5"),
        ({"env_auth": True}, "'env_auth' is not allowed on a destination"),
    ],
)
def test_values_rclone_cannot_take_are_refused_by_name(
    params: dict[str, Any], message: str
) -> None:
    response = _post({"provider": "AWS", **params})

    assert response.status_code == 400, response.content
    assert message in " ".join(response.json()["errors"]["params"])
    assert not Destination.objects.exists()


@pytest.fixture
def s3_server(tmp_path: Path) -> Iterator[RcloneServer]:
    server = RcloneServer("s3", tmp_path / "served", user="teacher", secret="s3cret-pass").start()
    yield server
    server.stop()


@pytest.mark.django_db
@pytest.mark.parametrize("no_check_bucket", [True, False])
def test_real_rclone_acts_on_a_json_boolean(
    settings: Any, tmp_path: Path, s3_server: RcloneServer, no_check_bucket: bool
) -> None:
    settings.PPIPE_DESTINATION_ALLOWED_NETWORKS = LOOPBACK
    params = {**s3_server.remote()["options"], "force_path_style": True}  # type: ignore[dict-item]
    response = _post({**params, "no_check_bucket": no_check_bucket}, path="new-bucket")
    assert response.status_code == 201, response.content
    remote = remote_for(Destination.objects.get(), reveal_secrets=True)
    job = release_job(
        store_training_data(tmp_path / "artifacts"),
        remote=dict(remote.as_job(reveal_secrets=True)),
        path="new-bucket/release-001.csv",
    )

    result = execute_release_job(
        job,
        artifacts=ContentStore(tmp_path / "artifacts"),
        rclone=Rclone(allowed_networks=LOOPBACK),
        local_roots=None,
    )

    # true: rclone trusts the bucket exists and is told it does not; false: it makes it.
    landed = (s3_server.root / "new-bucket" / "release-001.csv").exists()
    assert (result["ok"], landed) == (not no_check_bucket, not no_check_bucket), result
    if no_check_bucket:
        assert "bucket does not exist" in result["error"]
