"""Teams over the API: create (201), see mine with its members and code, join with
the code, leave; refusals in the house error shape saying what to do; the team
size in the challenge's description; the paths in the OpenAPI schema."""

from __future__ import annotations

import pytest

from tests.submissions import published_challenge
from tests.teams import student
from tests.test_api_challenges import token_client

pytestmark = pytest.mark.django_db


def test_create_see_join_and_leave() -> None:
    challenge = published_challenge(team_size=2)
    ada, grace = (
        token_client(student(challenge, "ada").user),
        token_client(student(challenge, "grace").user),
    )
    base = f"/api/challenges/{challenge.slug}"
    assert ada.get(f"{base}/").json()["team_size"] == 2

    created = ada.post(f"{base}/teams/", {"name": "owls"}, format="json")
    assert created.status_code == 201, created.json()
    code = created.json()["join_code"]
    joined = grace.post(f"{base}/team/join/", {"code": code}, format="json")
    assert joined.status_code == 200
    mine = ada.get(f"{base}/team/").json()
    assert (mine["name"], mine["members"], mine["join_code"]) == ("owls", ["ada", "grace"], code)

    assert grace.post(f"{base}/team/leave/").json() == {"left": "owls"}
    refused = grace.get(f"{base}/team/")
    assert refused.status_code == 404
    assert "create one" in refused.json()["detail"]
    assert refused.json()["errors"] == {}


def test_refusals_say_what_to_do() -> None:
    challenge = published_challenge(team_size=2)
    ada = token_client(student(challenge, "ada").user)
    base = f"/api/challenges/{challenge.slug}"
    ada.post(f"{base}/teams/", {"name": "owls"}, format="json")

    again = ada.post(f"{base}/teams/", {"name": "larks"}, format="json")
    assert again.status_code == 400
    assert "leave it first" in again.json()["errors"]["name"][0]
    wrong = ada.post(f"{base}/team/join/", {"code": "nope"}, format="json")
    assert wrong.status_code == 400
    assert "check it with" in wrong.json()["errors"]["code"][0]
    taken = token_client(student(challenge, "grace").user).post(
        f"{base}/teams/", {"name": "OWLS"}, format="json"
    )
    assert "already exists" in taken.json()["detail"]


def test_the_team_paths_are_in_the_schema() -> None:
    challenge = published_challenge()
    schema = token_client(student(challenge, "ada").user).get("/api/schema/?format=json").json()
    for path in ("team/", "teams/", "team/join/", "team/leave/"):
        assert f"/api/challenges/{{slug}}/{path}" in schema["paths"]
