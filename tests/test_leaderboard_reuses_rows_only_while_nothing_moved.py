"""A web process reuses the leaderboard rows, the JSON and the table it built
before only while what they are built from has not moved (judging/leaderboard.py
`board_rows`): with the leaderboard cache off, every change shows in the very
next answer: a result, a renamed student, a new team, a new team name."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client
from rest_framework.authtoken.models import Token

from challenges.models import Challenge
from judging.models import SubmissionState
from teams.models import Team
from tests.factories import SubmissionFactory
from tests.submissions import participants, published_challenge
from tests.teams import team

pytestmark = pytest.mark.django_db


def api(challenge: Challenge) -> Client:
    token = Token.objects.create(user=challenge.owner)
    return Client(headers={"Authorization": f"Token {token.key}"})


def names_and_scores(client: Client, challenge: Challenge, **headers: str) -> list[Any]:
    response = client.get(f"/api/challenges/{challenge.slug}/leaderboard/", headers=headers)
    assert response.status_code == 200
    return [(row["participant"], row["public_score"]) for row in response.json()["rows"]]


def test_every_change_shows_in_the_next_answer_with_the_cache_off(settings: Any) -> None:
    settings.PPIPE_LEADERBOARD_CACHE_SECONDS = 0
    challenge = published_challenge(team_size=2)
    ada, grace = participants(challenge, 2)
    User.objects.filter(pk=ada.user_id).update(username="ada")
    User.objects.filter(pk=grace.user_id).update(username="grace")
    SubmissionFactory(participant=ada, state=SubmissionState.SCORED, public_score=0.5)
    client = api(challenge)
    assert names_and_scores(client, challenge) == [("ada", 0.5)]
    assert names_and_scores(client, challenge) == [("ada", 0.5)]

    SubmissionFactory(participant=ada, state=SubmissionState.SCORED, public_score=0.8)
    assert names_and_scores(client, challenge) == [("ada", 0.8)]

    User.objects.filter(pk=ada.user_id).update(username="lovelace")
    assert names_and_scores(client, challenge) == [("lovelace", 0.8)]

    ada.refresh_from_db()
    grace.refresh_from_db()
    owls = team("owls", ada, grace)
    assert names_and_scores(client, challenge) == [("owls (grace, lovelace)", 0.8)]

    Team.objects.filter(pk=owls.pk).update(name="larks")
    assert names_and_scores(client, challenge) == [("larks (grace, lovelace)", 0.8)]
    # The page's table, cached under the same version, follows too.
    page = Client()
    page.force_login(challenge.owner)
    assert (
        "larks (grace, lovelace)"
        in page.get(f"/challenges/{challenge.slug}/leaderboard/").content.decode()
    )


def test_an_indented_answer_is_the_same_rows(settings: Any) -> None:
    settings.PPIPE_LEADERBOARD_CACHE_SECONDS = 0
    challenge = published_challenge()
    (ada,) = participants(challenge, 1)
    SubmissionFactory(participant=ada, state=SubmissionState.SCORED, public_score=0.5)
    client = api(challenge)
    plain = client.get(f"/api/challenges/{challenge.slug}/leaderboard/")
    indented = client.get(
        f"/api/challenges/{challenge.slug}/leaderboard/",
        headers={"Accept": "application/json; indent=2"},
    )
    assert plain["Content-Type"] == indented["Content-Type"].split(";")[0] == "application/json"
    assert b"\n  " in indented.content
    assert b"\n" not in plain.content
    assert plain.json() == indented.json()
