"""A `local` destination writes only below the folders an operator allows: the
form refuses another folder, and a dispatch worker refuses a job aimed elsewhere."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from dispatch.models import Destination
from tests.release_jobs import release_job, store_training_data
from worker_wing.content_store import ContentStore
from worker_wing.release.executor import execute_release_job
from worker_wing.release.rclone import Rclone


@pytest.mark.django_db
def test_the_form_refuses_a_folder_outside_the_allowed_roots(
    teacher_client: Client, settings: Any, tmp_path: Path
) -> None:
    settings.PPIPE_LOCAL_DESTINATION_ROOTS = [tmp_path / "releases"]
    form = {"type": "local", "options_text": "", "secrets_text": ""}

    refused = teacher_client.post(
        "/admin/dispatch/destination/add/", {**form, "name": "x", "path": "/root/.ssh"}
    )
    allowed = teacher_client.post(
        "/admin/dispatch/destination/add/",
        {**form, "name": "y", "path": str(tmp_path / "releases" / "c")},
    )

    assert "outside the folders releases may be written to" in refused.content.decode()
    assert allowed.status_code == 302
    assert list(Destination.objects.values_list("name", flat=True)) == ["y"]


def test_a_worker_refuses_a_job_that_writes_outside_its_roots(tmp_path: Path) -> None:
    digest = store_training_data(tmp_path / "artifacts")
    outside = tmp_path / "elsewhere" / "r.csv"
    job = release_job(digest, remote={"type": "local", "options": {}}, path=str(outside))

    result = execute_release_job(
        job,
        artifacts=ContentStore(tmp_path / "artifacts"),
        rclone=Rclone(),
        local_roots=[tmp_path / "releases"],
    )

    assert result["ok"] is False
    assert result["transient"] is False
    assert "outside the folders releases may be written to" in result["error"]
    assert not outside.exists()
