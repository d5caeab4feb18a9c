"""Each family of API views that scripts call in loops (polls, downloads, shared
code, forks, the leaderboard, questions, joining) has its own rate, per account
(per address when signed out), counted in the machine's Redis: past it, 429 with
`Retry-After` and a body that names the limit; another account is not affected;
the count empties after its window."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.urls import resolve
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from foundation.throttles import POLLS
from tests.factories import StudentFactory, SubmissionFactory
from tests.servers import wait_until
from tests.test_api_challenges import token_client

pytestmark = pytest.mark.django_db


def set_rates(settings: Any, **rates: str) -> None:
    merged = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], **rates}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": merged}


def test_the_counts_are_kept_in_redis() -> None:
    # Not a per-process memory cache: several web processes must share the counts.
    assert isinstance(caches["throttles"], RedisCache)


def test_the_poll_past_the_rate_is_a_429_that_names_the_limit(settings: Any) -> None:
    set_rates(settings, polls="3/minute")
    submission = SubmissionFactory()
    client = token_client(submission.participant.user)

    allowed = [
        client.get("/api/submissions/").status_code,
        client.get(f"/api/submissions/{submission.pk}/").status_code,
        client.get("/api/submissions/").status_code,
    ]
    refused = client.get(f"/api/submissions/{submission.pk}/")

    assert allowed == [200, 200, 200]
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 60
    body = refused.json()
    assert body["limit"] == {"scope": "polls", "requests": 3, "per_seconds": 60}
    assert body["retry_after"] == int(refused["Retry-After"])
    assert body["detail"].startswith(
        "Too many status requests (submissions, reproductions, endpoints) "
        "(at most 3 a minute): the next is possible in"
    )


def test_another_student_is_not_affected(settings: Any) -> None:
    set_rates(settings, polls="2/minute")
    hammering = token_client(StudentFactory())
    for _ in range(3):
        hammering.get("/api/submissions/")
    assert hammering.get("/api/submissions/").status_code == 429

    assert token_client(StudentFactory()).get("/api/submissions/").status_code == 200


def test_a_family_used_up_leaves_the_others(settings: Any) -> None:
    set_rates(settings, polls="1/minute")
    client = token_client(StudentFactory())
    client.get("/api/submissions/")
    assert client.get("/api/submissions/").status_code == 429

    # Not a member of any challenge: a 404, but not a refusal.
    assert client.get("/api/challenges/nowhere/leaderboard/").status_code == 404


def test_forks_past_the_rate_are_refused(settings: Any) -> None:
    set_rates(settings, forks="2/minute")
    client = token_client(StudentFactory())

    answers = [client.post("/api/submissions/999999/fork/").status_code for _ in range(3)]

    assert answers == [404, 404, 429]


def test_the_limit_lifts_when_its_window_has_passed(settings: Any) -> None:
    set_rates(settings, polls="2/second")
    client = token_client(StudentFactory())
    # A loaded machine may take more than the window for a few requests: ask until refused.
    for _ in range(100):
        refused = client.get("/api/submissions/")
        if refused.status_code == 429:
            break
    assert refused.status_code == 429
    assert refused["Retry-After"] == "1"

    wait_until(
        lambda: client.get("/api/submissions/").status_code == 200,
        timeout=30,
        what="the poll limit to lift",
    )


class SignedOutPoll(APIView):
    """A stand-in view: every view of the API itself refuses someone signed out
    before any rate is counted, so none can show how a signed-out caller is keyed."""

    authentication_classes: list[Any] = []
    permission_classes: list[Any] = []
    throttle_scope = POLLS

    def get(self, request: Request) -> Response:
        return Response({})


def test_signed_out_callers_are_counted_per_address(settings: Any) -> None:
    set_rates(settings, polls="2/minute")
    view = SignedOutPoll.as_view()
    factory = APIRequestFactory()

    def poll(address: str) -> int:
        return view(factory.get("/poll/", REMOTE_ADDR=address)).status_code

    first = [poll("127.0.0.2") for _ in range(3)]

    assert first == [200, 200, 429]
    assert poll("127.0.0.3") == 200


@pytest.mark.parametrize(
    ("path", "scope"),
    [
        ("/api/submissions/", "polls"),
        ("/api/submissions/1/", "polls"),
        ("/api/reproductions/1/", "polls"),
        ("/api/endpoints/1/", "polls"),
        ("/api/challenges/c/releases/1/download/", "downloads"),
        ("/api/challenges/c/kit/", "downloads"),
        ("/api/submissions/1/code/", "downloads"),
        ("/api/challenges/c/shared/", "shared_code"),
        ("/api/submissions/1/fork/", "forks"),
        ("/api/challenges/c/leaderboard/", "leaderboard"),
        ("/api/challenges/c/questions/", "receipts"),
        ("/api/questions/1/answer/", "receipts"),
        ("/api/challenges/c/join/", "joins"),
        ("/api/challenges/c/team/join/", "joins"),
        ("/api/challenges/c/teams/", "joins"),
        ("/api/challenges/c/team/leave/", "joins"),
    ],
)
def test_each_family_has_its_rate(settings: Any, path: str, scope: str) -> None:
    view = resolve(path).func.view_class  # type: ignore[attr-defined]

    assert view.throttle_scope == scope
    assert scope in settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]
