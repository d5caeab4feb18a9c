"""Bodies over their route's limit are refused with 413 on their Content-Length,
before a byte is read: nothing reaches the upload folder or the media folder. A
body of unknown length (chunked) is refused with 411."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from judging.models import Submission
from tests.submissions import participants, published_challenge
from tests.test_api_challenges import token_client

pytestmark = pytest.mark.django_db
MB = 1024 * 1024


class UnreadBody:
    """A request body that counts what the server reads of it."""

    def __init__(self) -> None:
        self.bytes_read = 0

    def read(self, size: int = -1) -> bytes:
        chunk = b"-" * (64 * 1024 if size is None or size < 0 else min(size, 64 * 1024))
        self.bytes_read += len(chunk)
        return chunk

    def readline(self, size: int = -1) -> bytes:
        return self.read(size)


@pytest.fixture
def upload_dirs(settings: Any, isolated_storage: Path) -> list[Path]:
    temp = isolated_storage / "upload-temp"
    temp.mkdir()
    settings.FILE_UPLOAD_TEMP_DIR = str(temp)
    media = isolated_storage / "media"
    media.mkdir(exist_ok=True)
    return [temp, media]


def files_in(folders: list[Path]) -> list[Path]:
    return sorted(path for folder in folders for path in folder.rglob("*"))


def post_claiming(client: Client, path: str, length: int, body: UnreadBody) -> Any:
    return client.generic(
        "POST",
        path,
        b"",
        content_type="multipart/form-data; boundary=ppipe",
        CONTENT_LENGTH=str(length),
        **{"wsgi.input": body},
    )


def test_a_300_mb_submission_is_refused_unread(upload_dirs: list[Path]) -> None:
    challenge = published_challenge()
    (ada,) = participants(challenge, 1)
    client = token_client(ada.user)
    before, body = files_in(upload_dirs), UnreadBody()

    response = post_claiming(
        client, f"/api/challenges/{challenge.slug}/submissions/", 300 * MB, body
    )

    assert response.status_code == 413
    assert response.json()["detail"] == (
        "The body is 300.0 MB; a submission is limited to 256 KB (PPIPE_MAX_SUBMISSION_KB). "
        "Nothing was stored."
    )
    assert body.bytes_read == 0
    assert files_in(upload_dirs) == before
    assert not Submission.objects.exists()


def test_a_dataset_over_its_limit_is_refused_unread_in_the_admin(
    teacher_client: Client, upload_dirs: list[Path]
) -> None:
    before, body = files_in(upload_dirs), UnreadBody()

    response = post_claiming(teacher_client, "/admin/challenges/challenge/add/", 202 * MB, body)

    assert response.status_code == 413
    assert "a dataset is limited to 200 MB" in response.content.decode()
    assert body.bytes_read == 0
    assert files_in(upload_dirs) == before


def test_other_routes_take_the_default_limit(teacher_client: Client) -> None:
    body = UnreadBody()

    response = post_claiming(teacher_client, "/api/destinations/", 3 * MB, body)

    assert response.status_code == 413
    assert "limited to 2.5 MB (PPIPE_MAX_REQUEST_KB)" in response.json()["detail"]
    assert body.bytes_read == 0


def test_a_chunked_body_without_a_length_is_refused(teacher_client: Client) -> None:
    body = UnreadBody()

    response = teacher_client.generic(
        "POST",
        "/api/challenges/",
        b"",
        content_type="multipart/form-data; boundary=ppipe",
        HTTP_TRANSFER_ENCODING="chunked",
        **{"wsgi.input": body},
    )

    assert response.status_code == 411
    assert "Content-Length" in response.json()["detail"]
    assert body.bytes_read == 0
