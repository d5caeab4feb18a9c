"""The challenge page's Team section: create a team, see its members and code, join
with a code, leave; a refusal comes back as a message; no section without teams."""

from __future__ import annotations

import pytest
from django.test import Client

from teams.models import Team
from tests.submissions import published_challenge
from tests.teams import student

pytestmark = pytest.mark.django_db


def logged_in(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


def test_create_join_and_leave_from_the_page() -> None:
    challenge = published_challenge(team_size=2)
    ada, grace = (
        logged_in(student(challenge, "ada").user),
        logged_in(student(challenge, "grace").user),
    )
    page = f"/challenges/{challenge.slug}/"
    assert 'id="team-create"' in grace.get(page).content.decode()

    ada.post(f"{page}team/create/", {"name": "owls"})
    code = Team.objects.get(name="owls").join_code
    grace.post(f"{page}team/join/", {"code": code})
    shown = grace.get(page).content.decode()
    assert "owls" in shown
    assert "ada, grace" in shown
    assert code in shown

    refused = ada.post(f"{page}team/join/", {"code": "nope"}, follow=True).content.decode()
    assert "check it with the team" in refused
    grace.post(f"{page}team/leave/")
    assert 'id="team-join"' in grace.get(page).content.decode()


def test_no_team_section_when_everyone_works_alone() -> None:
    challenge = published_challenge()
    page = logged_in(student(challenge, "ada").user).get(f"/challenges/{challenge.slug}/")
    assert 'id="team-create"' not in page.content.decode()
