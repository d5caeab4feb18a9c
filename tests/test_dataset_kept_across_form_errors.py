"""A dataset chosen on the challenge form survives the form's other errors: the page
says it is kept and carries a signed token; the next submit without a file brings it
back. A forged or expired token is refused with a message, and nothing is saved."""

from __future__ import annotations

import hashlib
import os
import re
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from playwright.sync_api import Page, expect

from challenges.kept_uploads import KEEP_FOR, SALT, kept_uploads_dir
from challenges.models import Challenge
from tests.admin_forms import form_errors, post_add_challenge
from tests.factories import TeacherFactory, iris_csv
from tests.test_admin_in_browser import fill_add_challenge_form, save, write_csv

pytestmark = pytest.mark.django_db

YESTERDAY = timezone.now() - timedelta(days=1)


def kept_token(response: Any) -> str:
    match = re.search(r'name="dataset_kept" value="([^"]+)"', response.content.decode())
    assert match, "the page carries no kept dataset"
    return match.group(1)


def resubmit_without_file(client: Client, token: str) -> Any:
    return post_add_challenge(client, dataset="", dataset_kept=token)


def test_the_kept_dataset_is_saved_on_the_next_submit(teacher_client: Client) -> None:
    first = post_add_challenge(teacher_client, closes_at=YESTERDAY)

    assert "must be after the open date" in " ".join(form_errors(first)["closes_at"])
    assert "Dataset kept: iris.csv (150 rows)" in first.content.decode()
    assert not Challenge.objects.exists()

    second = resubmit_without_file(teacher_client, kept_token(first))

    assert form_errors(second) == {}
    challenge = Challenge.objects.get(slug="iris")
    assert challenge.dataset_rows == 150
    assert challenge.dataset_sha256 == hashlib.sha256(iris_csv()).hexdigest()
    with challenge.dataset.open("rb") as handle:
        assert handle.read() == iris_csv()


def test_a_forged_token_is_refused(teacher_client: Client) -> None:
    token = kept_token(post_add_challenge(teacher_client, closes_at=YESTERDAY))
    payload = signing.loads(token, salt=SALT)
    forged = signing.dumps({**payload, "name": "other.csv"}, salt="not the server's")

    response = resubmit_without_file(teacher_client, forged)

    assert form_errors(response)["dataset"] == [
        "The reference to the kept dataset is not valid (it was altered): choose the file again."
    ]
    assert not Challenge.objects.exists()


def test_an_expired_token_is_refused(teacher_client: Client) -> None:
    token = kept_token(post_add_challenge(teacher_client, closes_at=YESTERDAY))

    class SignedLongAgo(signing.TimestampSigner):
        def timestamp(self) -> str:
            return signing.b62_encode(int(time.time() - KEEP_FOR.total_seconds() - 60))

    old = SignedLongAgo(salt=SALT).sign_object(signing.loads(token, salt=SALT))

    response = resubmit_without_file(teacher_client, old)

    assert "has expired (kept 24 hours): choose the file again" in " ".join(
        form_errors(response)["dataset"]
    )
    assert not Challenge.objects.exists()


def test_another_teachers_token_is_refused_and_nothing_is_saved(teacher_client: Client) -> None:
    token = kept_token(post_add_challenge(teacher_client, closes_at=YESTERDAY))
    other = Client()
    other.force_login(TeacherFactory())

    response = resubmit_without_file(other, token)

    assert form_errors(response)["dataset"] == [
        "The kept dataset was not uploaded from your account, so it cannot be used here: "
        "choose the file again."
    ]
    assert not Challenge.objects.exists()


def test_the_uploader_still_gets_the_file_after_another_teacher_was_refused(
    teacher_client: Client, teacher: User
) -> None:
    token = kept_token(post_add_challenge(teacher_client, closes_at=YESTERDAY))
    other = Client()
    other.force_login(TeacherFactory())
    resubmit_without_file(other, token)

    response = resubmit_without_file(teacher_client, token)

    assert form_errors(response) == {}
    assert Challenge.objects.get(slug="iris").owner == teacher


def test_a_dataset_with_its_own_errors_is_not_kept(teacher_client: Client) -> None:
    few_rows = b"x,species\n" + b"".join(
        b"%d,%s\n" % (i, b"ab"[i % 2 : i % 2 + 1]) for i in range(9)
    )

    response = post_add_challenge(
        teacher_client, dataset=SimpleUploadedFile("few.csv", few_rows, "text/csv")
    )

    assert "a challenge needs at least 30" in " ".join(form_errors(response)["dataset"])
    assert 'name="dataset_kept"' not in response.content.decode()
    assert "Dataset kept" not in response.content.decode()


@pytest.mark.django_db(transaction=True)
def test_in_chromium_the_dataset_survives_a_validation_error(
    teacher_page: Page, teacher: User, tmp_path: Path
) -> None:
    page = teacher_page
    wine = write_csv(tmp_path, "wine.csv", iris_csv())
    fill_add_challenge_form(page, name="Kept data", slug="kept-data", dataset=wine)
    page.get_by_label("Metric").select_option("r2")  # a regression metric: invalid here
    save(page)

    expect(page.locator(".field-metric .errorlist")).to_contain_text("is a regression metric")
    expect(page.locator("#kept-dataset")).to_contain_text(
        "Dataset kept: wine.csv (150 rows) — choose a file only to replace it."
    )
    assert not Challenge.objects.exists()

    # No file chosen again: the browser's file input is empty, the kept file is used.
    page.get_by_label("Metric").select_option("accuracy")
    save(page)

    expect(page.locator(".messagelist .success")).to_contain_text("was added successfully")
    challenge = Challenge.objects.get(slug="kept-data", owner=teacher)
    assert challenge.dataset_rows == 150
    assert challenge.dataset_sha256 == hashlib.sha256(iris_csv()).hexdigest()


def test_an_error_in_a_section_of_the_page_keeps_the_dataset_too(teacher_client: Client) -> None:
    response = post_add_challenge(teacher_client, release_proportions="40,abc")

    assert "release_proportions" in form_errors(response)
    assert "Dataset kept: iris.csv (150 rows)" in response.content.decode()
    assert not Challenge.objects.exists()


def test_kept_files_older_than_their_tokens_are_pruned(teacher_client: Client) -> None:
    stale = kept_uploads_dir() / ("0" * 64)
    stale.parent.mkdir(parents=True)
    stale.write_bytes(b"a dataset nobody came back for")
    long_ago = time.time() - KEEP_FOR.total_seconds() - 60
    os.utime(stale, (long_ago, long_ago))

    kept_token(post_add_challenge(teacher_client, closes_at=YESTERDAY))

    assert not stale.exists()
    assert [path.name for path in kept_uploads_dir().iterdir()] == [
        hashlib.sha256(iris_csv()).hexdigest()
    ]
