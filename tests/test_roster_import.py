"""A teacher imports a class roster in the admin: accounts are made and enrolled,
passwords shown once; one bad line and nothing at all is imported, and every bad
line is named by its line number in the file."""

from __future__ import annotations

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.test import Client
from django.urls import reverse
from django.utils.html import escape

from challenges.models import Participant
from tests.factories import ChallengeFactory, StudentFactory, TeacherFactory

pytestmark = pytest.mark.django_db


def roster_url(challenge: object) -> str:
    return reverse("admin:challenges_challenge_roster", args=[challenge.pk])  # type: ignore[attr-defined]


def test_new_students_get_accounts_that_log_in_and_existing_ones_are_enrolled(
    teacher: object, teacher_client: Client
) -> None:
    challenge = ChallengeFactory(owner=teacher)
    existing = StudentFactory(username="bob")

    response = teacher_client.post(
        roster_url(challenge), {"roster": "username,email\nalice,alice@example.org\nbob,b@x.org\n"}
    )

    accounts = {a.username: a for a in response.context["accounts"]}
    assert accounts["bob"].password is None
    assert authenticate(username="alice", password=accounts["alice"].password) is not None
    assert set(
        Participant.objects.filter(challenge=challenge).values_list("user_id", flat=True)
    ) == {
        existing.pk,
        get_user_model().objects.get(username="alice").pk,
    }


def test_every_bad_line_is_named_by_its_line_in_the_file_and_nothing_is_imported(
    teacher: object, teacher_client: Client
) -> None:
    challenge = ChallengeFactory(owner=teacher)
    roster = (
        "username,email\n"  # line 1
        "carol,carol@example.org\n"
        "dave,not-an-email\n"
        "\n"  # a blank line still counts
        "erin;erin@example.org\n"
        "carol,c2@example.org\n"
        "frank,frank@example.org,extra\n"
    )

    response = teacher_client.post(roster_url(challenge), {"roster": roster})

    problems = response.context["problems"]
    assert [problem.split(":")[0] for problem in problems] == [
        "Line 3 (dave)",
        "Line 5",
        "Line 6 (carol)",
        "Line 7",
    ]
    assert "not a semicolon" in problems[1]
    assert "first on line 2" in problems[2]
    page = response.content.decode()
    assert "fix these 4 lines" in page
    assert all(escape(problem) in page for problem in problems)
    assert not get_user_model().objects.filter(username="carol").exists()
    assert not Participant.objects.exists()


def test_a_staff_account_in_the_roster_is_named_by_its_line(
    teacher: object, teacher_client: Client
) -> None:
    challenge = ChallengeFactory(owner=teacher)
    TeacherFactory(username="mallory")

    response = teacher_client.post(
        roster_url(challenge), {"roster": "username,email\nalice,a@example.org\nmallory,m@x.org"}
    )

    assert response.context["problems"] == [
        "Line 3 (mallory): a staff account; teachers are not enrolled as students. Remove the line."
    ]
    assert not get_user_model().objects.filter(username="alice").exists()


def test_a_teacher_cannot_import_into_another_teachers_challenge(teacher_client: Client) -> None:
    others = ChallengeFactory()

    response = teacher_client.post(roster_url(others), {"roster": "eve,eve@example.org"})

    assert response.status_code == 404
    assert not get_user_model().objects.filter(username="eve").exists()
