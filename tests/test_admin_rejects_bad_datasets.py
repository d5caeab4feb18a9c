"""The admin rejects bad input with a readable form error and saves nothing."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from challenges.models import Challenge
from tests.admin_forms import form_errors, post_add_challenge
from tests.factories import iris_csv


def csv_upload(content: bytes, name: str = "data.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, "text/csv")


def xlsx_like_bytes() -> bytes:
    """A zip laid out as an .xlsx is: what a teacher uploads when picking the workbook."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/workbook.xml", "<workbook/>")
    return buffer.getvalue()


def parquet_bytes() -> bytes:
    buffer = io.BytesIO()
    pd.read_csv(io.BytesIO(iris_csv())).to_parquet(buffer, index=False)
    return buffer.getvalue()


def assert_nothing_saved() -> None:
    assert Challenge.objects.count() == 0
    media = Path(settings.STORAGES["default"]["OPTIONS"]["location"])
    assert not list(media.rglob("*.csv")), "a rejected dataset was left on disk"


@pytest.mark.django_db
def test_a_valid_challenge_is_saved_and_owned_by_its_teacher(
    teacher_client: Client, teacher: object
) -> None:
    response = post_add_challenge(teacher_client)

    assert form_errors(response) == {}
    challenge = Challenge.objects.get(slug="iris")
    assert challenge.owner == teacher
    assert challenge.dataset_rows == 150
    assert challenge.status == "draft"


@pytest.mark.parametrize(
    ("overrides", "field", "expected"),
    [
        ({"dataset": csv_upload(b"")}, "dataset", "file is empty"),
        ({"dataset": csv_upload(b'a,b\n1,"2\n3,4\n')}, "dataset", "The CSV does not parse"),
        (
            {"dataset": csv_upload(b"\x89PNG\r\n\x1a\n\xff\xfe\x00\x00")},
            "dataset",
            "This file is not text (CSV expected): it looks like a PNG image.",
        ),
        (
            {"dataset": csv_upload(xlsx_like_bytes())},
            "dataset",
            "it looks like an Excel workbook (.xlsx): save it as CSV.",
        ),
        (
            {"dataset": csv_upload(parquet_bytes())},
            "dataset",
            "it looks like a Parquet file: give it a .parquet name.",
        ),
        ({"dataset": csv_upload("café,species\n1,a\n".encode("latin-1"))}, "dataset", "not UTF-8"),
        (
            {"dataset": csv_upload(b"a,b\n1,2\n", name="data.xlsx")},
            "dataset",
            "neither a .csv nor a .parquet",
        ),
        ({"target_column": "colour"}, "target_column", "The dataset has no column 'colour'"),
        ({"metric": "r2"}, "metric", "'r2' is a regression metric; for classification use one of"),
        (
            {"closes_at": timezone.now() - timedelta(days=1)},
            "closes_at",
            "must be after the open date",
        ),
        (
            {"task_type": "regression", "metric": "r2"},
            "task_type",
            "Regression needs a numeric target",
        ),
        ({"id_column": "sepal length (cm)"}, "id_column", "must identify each row once"),
    ],
    ids=[
        "empty-file",
        "unparseable-csv",
        "png-image",
        "xlsx-workbook",
        "parquet-named-csv",
        "latin-1-text",
        "unknown-extension",
        "missing-target",
        "metric-for-other-task",
        "close-before-open",
        "text-target-for-regression",
        "duplicate-ids",
    ],
)
@pytest.mark.django_db
def test_bad_input_gets_a_form_error_and_nothing_is_saved(
    teacher_client: Client, overrides: dict[str, object], field: str, expected: str
) -> None:
    response = post_add_challenge(teacher_client, **overrides)

    assert response.status_code == 200
    messages = form_errors(response).get(field, [])
    assert any(expected in message for message in messages), form_errors(response)
    assert expected.split("'")[0] in response.content.decode()
    assert_nothing_saved()


@pytest.mark.django_db
def test_a_file_over_the_size_limit_is_refused(teacher_client: Client, settings: object) -> None:
    settings.PPIPE_MAX_DATASET_MB = 1  # type: ignore[attr-defined]
    big = b"x,species\n" + b"1,a\n" * 300_000

    response = post_add_challenge(teacher_client, dataset=csv_upload(big))

    assert "the limit is 1 MB" in " ".join(form_errors(response)["dataset"])
    assert_nothing_saved()


@pytest.mark.django_db
def test_empty_columns_and_too_few_rows_are_named(teacher_client: Client) -> None:
    rows = b"".join(b"%d,,%s\n" % (i, b"ab"[i % 2 : i % 2 + 1]) for i in range(10))

    response = post_add_challenge(teacher_client, dataset=csv_upload(b"x,blank,species\n" + rows))

    messages = " ".join(form_errors(response)["dataset"])
    assert "'blank' are entirely empty" in messages
    assert "has 10 rows; a challenge needs at least 30" in messages
    assert_nothing_saved()


@pytest.mark.django_db
def test_a_class_with_a_single_row_cannot_be_stratified(teacher_client: Client) -> None:
    rows = b"".join(b"%d,%s\n" % (i, b"common") for i in range(40)) + b"99,rare\n"

    response = post_add_challenge(teacher_client, dataset=csv_upload(b"x,species\n" + rows))

    assert "'rare'" in " ".join(form_errors(response)["target_column"])
    assert_nothing_saved()
