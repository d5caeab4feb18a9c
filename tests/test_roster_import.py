"""A teacher imports a class roster in the admin: accounts are made and enrolled,
passwords shown once; one bad line and nothing at all is imported."""

from __future__ import annotations

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.test import Client
from django.urls import reverse

from challenges.models import Participant
from tests.factories import ChallengeFactory, StudentFactory

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


def test_a_bad_line_is_named_and_nothing_is_imported(
    teacher: object, teacher_client: Client
) -> None:
    challenge = ChallengeFactory(owner=teacher)

    response = teacher_client.post(
        roster_url(challenge), {"roster": "carol,carol@example.org\ndave,not-an-email\n"}
    )

    assert "Line 2 (dave)" in response.context["error"]
    assert not get_user_model().objects.filter(username="carol").exists()
    assert not Participant.objects.exists()


def test_a_teacher_cannot_import_into_another_teachers_challenge(teacher_client: Client) -> None:
    others = ChallengeFactory()

    response = teacher_client.post(roster_url(others), {"roster": "eve,eve@example.org"})

    assert response.status_code == 404
    assert not get_user_model().objects.filter(username="eve").exists()
