"""The leaderboard marks the reader's own row (class "me"), or their team's, and
no other: each reader sees their own marked."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from judging.models import SubmissionState
from tests.factories import SubmissionFactory
from tests.submissions import published_challenge
from tests.teams import student, team

pytestmark = pytest.mark.django_db


def marked_rows(user: object, slug: str) -> list[str]:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    page = client.get(f"/challenges/{slug}/leaderboard/").content.decode()
    assert 'id="leaderboard"' in page
    return re.findall(r'<tr data-participant="([^"]*)" class="me">', page)


def test_each_reader_sees_their_own_row_or_their_teams_marked() -> None:
    challenge = published_challenge(team_size=2)
    ada, grace, alan, barbara = (
        student(challenge, name) for name in ("ada", "grace", "alan", "barbara")
    )
    team("owls", ada, grace)
    for participant, score in ((ada, 0.9), (alan, 0.8)):
        SubmissionFactory(participant=participant, state=SubmissionState.SCORED, public_score=score)

    assert marked_rows(ada.user, challenge.slug) == ["owls (ada, grace)"]
    # A member whose teammate made the team's row: theirs too.
    assert marked_rows(grace.user, challenge.slug) == ["owls (ada, grace)"]
    assert marked_rows(alan.user, challenge.slug) == ["alan"]
    assert marked_rows(barbara.user, challenge.slug) == []  # no row of their own
