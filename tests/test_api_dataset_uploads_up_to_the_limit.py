"""Datasets through POST /api/challenges/ at the sizes teachers upload: past
Django's in-memory threshold the file is streamed to a temporary file, and the
challenge is created and published as from the admin."""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from challenges.models import Challenge
from tests.factories import TeacherFactory
from tests.test_api_challenges import challenge_fields, token_client

pytestmark = pytest.mark.django_db


def wide_csv(megabytes: int) -> tuple[bytes, int]:
    """A classification dataset of about this size: wide rows, so not too many."""
    note = "x" * 200
    row_bytes = len(f"100000,12.5,{note},setosa\n")
    rows = megabytes * 1024 * 1024 // row_bytes
    species = ("setosa", "versicolor", "virginica")
    lines = [f"{n},{n % 97}.5,{note},{species[n % 3]}" for n in range(rows)]
    return ("id,length,note,species\n" + "\n".join(lines) + "\n").encode(), rows


@pytest.mark.parametrize("megabytes", [3, 50])
def test_a_large_dataset_is_created_and_published(megabytes: int) -> None:
    data, rows = wide_csv(megabytes)
    assert len(data) > (megabytes - 1) * 1024 * 1024
    client = token_client(TeacherFactory())

    created = client.post(
        "/api/challenges/",
        challenge_fields(id_column="id", dataset=SimpleUploadedFile("large.csv", data, "text/csv")),
        format="multipart",
    )

    assert created.status_code == 201, created.content[:500]
    challenge = Challenge.objects.get(slug="iris-api")
    assert challenge.dataset_rows == rows
    assert challenge.dataset_sha256 == hashlib.sha256(data).hexdigest()
    published = client.post("/api/challenges/iris-api/publish/")
    assert published.status_code == 200, published.json()
    assert published.json()["status"] != "draft"
