"""After a roster import the page offers the new accounts as a CSV to download,
made in the page itself (a data: URL): username, email and password of each new
account, passwords that log in, and nothing for the accounts that already existed."""

from __future__ import annotations

import base64
import csv
import io
import re

import pytest
from django.contrib.auth import authenticate
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from playwright.sync_api import Browser
from pytest_django.live_server_helper import LiveServer

from tests.browser import admin_log_in, patient_ms
from tests.factories import ChallengeFactory, StudentFactory

pytestmark = pytest.mark.django_db


def downloaded_rows(page: str) -> list[dict[str, str]]:
    match = re.search(r'href="data:text/csv;charset=utf-8;base64,([A-Za-z0-9+/=]+)"', page)
    assert match, "the page offers no download"
    text = base64.b64decode(match.group(1)).decode()
    return list(csv.DictReader(io.StringIO(text)))


def test_the_new_accounts_download_as_a_csv_whose_passwords_log_in(
    teacher: object, teacher_client: Client
) -> None:
    challenge = ChallengeFactory(owner=teacher)
    StudentFactory(username="bob")

    response = teacher_client.post(
        reverse("admin:challenges_challenge_roster", args=[challenge.pk]),
        {"roster": "username,email\nalice,alice@example.org\nbob,b@x.org\nzoe,z@x.org\n"},
    )

    rows = downloaded_rows(response.content.decode())
    assert [(row["username"], row["email"]) for row in rows] == [
        ("alice", "alice@example.org"),
        ("zoe", "z@x.org"),
    ]
    assert all(authenticate(username=r["username"], password=r["password"]) for r in rows)
    assert f'download="{challenge.slug}-new-accounts.csv"' in response.content.decode()
    assert "no-store" in response["Cache-Control"]


@pytest.mark.django_db(transaction=True)
def test_in_chromium_the_download_link_saves_the_csv(
    browser: Browser, live_server: LiveServer, teacher: User
) -> None:
    challenge = ChallengeFactory(owner=teacher, slug="roster-class")
    context = browser.new_context(base_url=live_server.url, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(patient_ms(15))
    admin_log_in(page, teacher.username)
    page.goto(reverse("admin:challenges_challenge_roster", args=[challenge.pk]))
    page.locator("#id_roster").fill("username,email\ncarla,carla@example.org\n")
    page.locator("#import-roster").click()

    with page.expect_download() as download:
        page.locator("#roster-download").click()

    assert download.value.suggested_filename == "roster-class-new-accounts.csv"
    saved = download.value.path().read_text()
    context.close()
    (row,) = csv.DictReader(io.StringIO(saved))
    assert row["username"] == "carla"
    assert authenticate(username="carla", password=row["password"]) is not None
