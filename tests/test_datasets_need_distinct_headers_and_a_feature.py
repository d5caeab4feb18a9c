"""A dataset whose header names a column twice (pandas would silently rename
the second) or that holds nothing but the target (and id) is refused, through
the API and the admin alike, with a message that says what to fix."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from challenges.models import Challenge
from tests.admin_forms import form_errors, post_add_challenge
from tests.factories import TeacherFactory
from tests.test_api_challenges import challenge_fields, token_client

pytestmark = pytest.mark.django_db


def rows(header: str, row: str, count: int = 60) -> bytes:
    return (
        header + "\n" + "\n".join(row.format(n=n, s="ab"[n % 2]) for n in range(count))
    ).encode()


def create(data: bytes, **fields: str) -> dict[str, object]:
    response = token_client(TeacherFactory()).post(
        "/api/challenges/",
        challenge_fields(dataset=SimpleUploadedFile("d.csv", data, "text/csv"), **fields),
        format="multipart",
    )
    assert response.status_code == 400, response.json()
    assert not Challenge.objects.exists()
    return dict(response.json())


def test_a_repeated_header_is_refused() -> None:
    body = create(rows("length,width,length,species", "{n},2,3,{s}"))

    message = body["errors"]["dataset"][0]  # type: ignore[index]
    assert message == (
        "The header names column(s) 'length' more than once: give each column its own "
        "name and upload the file again."
    )
    assert message in str(body["detail"])


def test_a_dataset_of_only_the_target_and_id_is_refused() -> None:
    body = create(rows("row,species", "{n},{s}"), id_column="row")

    assert body["errors"]["dataset"] == [  # type: ignore[index]
        "The dataset has no feature column, only 'row', 'species': add the columns "
        "students predict the target from."
    ]


def test_both_are_refused_in_the_admin_too(teacher_client: Client) -> None:
    repeated = rows("length,length,species", "{n},3,{s}")
    target_only = rows("species", "{s}")

    first = post_add_challenge(teacher_client, dataset=SimpleUploadedFile("d.csv", repeated))
    second = post_add_challenge(teacher_client, dataset=SimpleUploadedFile("d.csv", target_only))

    assert "'length' more than once" in form_errors(first)["dataset"][0]
    assert "no feature column, only 'species'" in form_errors(second)["dataset"][0]
    assert not Challenge.objects.exists()
