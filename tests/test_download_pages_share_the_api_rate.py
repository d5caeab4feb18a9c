"""The pages that serve downloads (a release, the starting kit) count in the API's
`downloads` family: the same count, so a page is no way around the API's limit;
past it a plain 429 with `Retry-After`. A teacher in the admin of their own
challenge is never throttled."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.test import Client

from tests.factories import StudentFactory
from tests.submissions import published_challenge
from tests.test_api_challenges import token_client
from tests.test_api_rate_limits_per_view_family import set_rates

pytestmark = pytest.mark.django_db


def signed_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_release_page_past_the_rate_is_a_429_saying_when(settings: Any) -> None:
    set_rates(settings, downloads="2/minute")
    page = signed_in(StudentFactory())
    url = "/challenges/nowhere/releases/1/download/"

    answers = [page.get(url) for _ in range(3)]

    assert [answer.status_code for answer in answers[:2]] == [404, 404]
    refused = answers[2]
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    assert refused.content.decode().startswith("Too many downloads (at most 2 a minute)")


def test_the_kit_page_shares_the_count_with_the_api(settings: Any) -> None:
    set_rates(settings, downloads="2/minute")
    student = StudentFactory()
    api = token_client(student)
    api.get("/api/challenges/nowhere/kit/")
    api.get("/api/challenges/nowhere/releases/1/download/")

    assert signed_in(student).get("/challenges/nowhere/kit/").status_code == 429


def test_a_teacher_in_their_challenges_admin_is_not_throttled(
    settings: Any, teacher: User, teacher_client: Client
) -> None:
    set_rates(settings, **{scope: "1/minute" for scope in ("polls", "downloads", "leaderboard")})
    challenge = published_challenge(owner=teacher)
    change = f"/admin/challenges/challenge/{challenge.pk}/change/"

    answers = [teacher_client.get(change).status_code for _ in range(3)]

    assert answers == [200, 200, 200]
