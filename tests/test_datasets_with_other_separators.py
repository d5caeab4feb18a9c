"""A CSV exported with semicolons (and decimal commas), tabs or pipes is read as
the table it is; a file whose separator cannot be told gets a sentence naming
the likely one, instead of pandas' single giant column or tokenizer error."""

from __future__ import annotations

import io

import pandas as pd
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from challenges.datasets import read_dataset
from challenges.models import Challenge
from tests.admin_forms import form_errors, post_add_challenge
from tests.factories import iris_csv

pytestmark = pytest.mark.django_db


def iris_written_with(separator: str, decimal: str = ".") -> SimpleUploadedFile:
    frame = pd.read_csv(io.BytesIO(iris_csv()))
    text = frame.to_csv(sep=separator, decimal=decimal, index=False)
    return SimpleUploadedFile("iris.csv", text.encode(), "text/csv")


def dataset_messages(response: object) -> str:
    return " ".join(form_errors(response).get("dataset", []))


@pytest.mark.parametrize(
    ("separator", "decimal"),
    [(";", ","), (";", "."), ("\t", "."), ("|", ".")],
    ids=["semicolon-decimal-comma", "semicolon", "tab", "pipe"],
)
def test_other_separators_are_read_as_columns(
    teacher_client: Client, separator: str, decimal: str
) -> None:
    response = post_add_challenge(teacher_client, dataset=iris_written_with(separator, decimal))

    assert form_errors(response) == {}
    challenge = Challenge.objects.get(slug="iris")
    assert challenge.dataset_rows == 150
    with challenge.dataset.open("rb") as handle:
        stored = read_dataset(handle, "csv")
    assert stored.columns[-1] == "species"
    assert stored["sepal length (cm)"].dtype == "float64"
    assert stored["sepal length (cm)"].iloc[0] == pytest.approx(5.1)


def test_a_semicolon_file_with_a_short_line_names_the_separator_and_the_line(
    teacher_client: Client,
) -> None:
    rows = [b"%d;%d;%s\n" % (i, i * 2, b"ab"[i % 2 : i % 2 + 1]) for i in range(40)]
    rows.insert(5, b"7;a\n")  # after the header and five good rows: line 7 of the file
    broken = b"x;y;species\n" + b"".join(rows)

    response = post_add_challenge(
        teacher_client, dataset=SimpleUploadedFile("d.csv", broken, "text/csv")
    )

    message = dataset_messages(response)
    assert "looks semicolon-separated" in message
    assert "line 7 has 2 fields where the header has 3" in message
    assert not Challenge.objects.exists()


def test_a_file_split_by_two_separators_alike_is_called_unclear(teacher_client: Client) -> None:
    rows = b"".join(b"%d;%d|%s\n" % (i, i, b"ab"[i % 2 : i % 2 + 1]) for i in range(40))

    response = post_add_challenge(
        teacher_client, dataset=SimpleUploadedFile("d.csv", b"x;y|species\n" + rows, "text/csv")
    )

    message = dataset_messages(response)
    assert "The separator is unclear" in message
    assert "2 columns on semicolons, 2 columns on pipes" in message
    assert not Challenge.objects.exists()
