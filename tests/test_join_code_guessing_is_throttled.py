"""Guessing join codes: past the rate of tries (REST_FRAMEWORK's `join_code`
scope) the API answers 429 with `Retry-After`, even for the right code; the
pages' join forms share the count and say when to try again; sign-up counts
wrong codes per address."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from challenges.models import Participant
from tests.factories import StudentFactory
from tests.submissions import participants, published_challenge
from tests.test_api_challenges import token_client

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def three_tries_an_hour(settings: Any) -> None:
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "join_code": "3/hour"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}


def test_guessing_a_challenge_code_through_the_api_is_a_429() -> None:
    challenge = published_challenge(join_code="owls-2026")
    student = StudentFactory()
    client = token_client(student)
    join = f"/api/challenges/{challenge.slug}/join/"

    guesses = [client.post(join, {"code": f"guess-{n}"}, format="json") for n in range(3)]
    right = client.post(join, {"code": "owls-2026"}, format="json")

    assert [answer.status_code for answer in guesses] == [400, 400, 400]
    assert right.status_code == 429
    assert 3500 < int(right["Retry-After"]) <= 3600
    assert right.json()["detail"].startswith("Too many join-code tries: the next is possible in")
    assert not Participant.objects.filter(user=student).exists()


def test_team_codes_share_the_count_and_the_page_says_when() -> None:
    challenge = published_challenge(join_code="owls-2026", team_size=3)
    (ada,) = participants(challenge, 1)
    api = token_client(ada.user)
    for n in range(2):
        api.post(f"/api/challenges/{challenge.slug}/team/join/", {"code": f"x{n}"}, format="json")
    page = Client()
    page.force_login(ada.user)

    page.post(f"/challenges/{challenge.slug}/team/join/", {"code": "x3"})
    refused = page.post(f"/challenges/{challenge.slug}/team/join/", {"code": "x4"}, follow=True)

    assert "Too many join-code tries" in refused.content.decode()
    answer = api.post(f"/api/challenges/{challenge.slug}/team/join/", {"code": "y"}, format="json")
    assert answer.status_code == 429
    assert "Retry-After" in answer


def test_the_challenge_page_join_form_is_throttled() -> None:
    challenge = published_challenge(join_code="owls-2026")
    student = StudentFactory()
    page = Client()
    page.force_login(student)
    for n in range(3):
        page.post(f"/challenges/{challenge.slug}/", {"code": f"guess-{n}"})

    right = page.post(f"/challenges/{challenge.slug}/", {"code": "owls-2026"})

    assert "Too many join-code tries" in right.content.decode()
    assert not Participant.objects.filter(user=student).exists()


def test_sign_up_counts_only_wrong_codes_per_address() -> None:
    challenge = published_challenge(join_code="owls-2026")

    def sign_up(username: str, code: str) -> Any:
        fields = {
            "username": username,
            "email": f"{username}@example.org",
            "password1": "a long enough passphrase 7",
            "password2": "a long enough passphrase 7",
            "challenge": challenge.slug,
            "code": code,
        }
        return Client().post("/signup/", fields)

    for n in range(4):  # a class behind one address signs up with the right code
        assert sign_up(f"pupil{n}", "owls-2026").status_code == 302
    for n in range(3):
        sign_up(f"guesser{n}", f"guess-{n}")

    refused = sign_up("latecomer", "owls-2026")

    assert "Too many join-code tries" in refused.content.decode()
    assert Participant.objects.filter(challenge=challenge).count() == 4
