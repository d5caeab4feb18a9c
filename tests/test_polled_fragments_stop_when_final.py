"""The parts of pages that htmx polls: each asks to be polled while it can change,
answers a poll with 204 (nothing to swap) while its version is current, and once
final answers 286 (htmx's "stop polling") without a trigger. A student polls
only what is theirs to read."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django.utils.html import escape

from foundation.live_fragments import POLL_TRIGGER
from judging.models import SubmissionState
from probing.models import Endpoint
from tests.factories import SubmissionFactory
from tests.submissions import participants, published_challenge

pytestmark = pytest.mark.django_db

TRIGGER = f'hx-trigger="{escape(POLL_TRIGGER)}"'


def logged_in(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


def version(html: str) -> str:
    found = re.search(r"[?&](?:amp;)?v=([0-9a-f]{16})", html)
    assert found, html[:300]
    return found.group(1)


def test_a_waiting_submission_is_polled_until_it_ends() -> None:
    challenge = published_challenge()
    ada, grace = participants(challenge, 2)
    submission = SubmissionFactory(participant=ada, state=SubmissionState.QUEUED)
    client = logged_in(ada.user)
    url = f"/submissions/{submission.pk}/live/"

    first = client.get(url)
    assert first.status_code == 200
    assert TRIGGER in first.content.decode()
    current = version(first.content.decode())
    assert client.get(url, {"v": current}).status_code == 204
    assert logged_in(grace.user).get(url).status_code == 404

    submission.state = SubmissionState.SCORED
    submission.public_score = 0.9321
    submission.save()
    final = client.get(url, {"v": current})
    assert final.status_code == 286
    assert TRIGGER not in final.content.decode()
    assert "0.9321" in final.content.decode()
    # The page itself, opened on an ended submission, does not poll either.
    assert TRIGGER not in client.get(f"/submissions/{submission.pk}/").content.decode()


def test_my_submissions_are_polled_while_one_waits() -> None:
    challenge = published_challenge()
    (ada,) = participants(challenge, 1)
    waiting = SubmissionFactory(participant=ada, state=SubmissionState.RUNNING)
    client = logged_in(ada.user)
    url = f"/challenges/{challenge.slug}/my-submissions/"

    assert TRIGGER in client.get(f"/challenges/{challenge.slug}/").content.decode()
    current = version(client.get(url).content.decode())
    assert client.get(url, {"v": current}).status_code == 204
    waiting.state = SubmissionState.FAILED
    waiting.save()
    ended = client.get(url, {"v": current})
    assert ended.status_code == 286
    assert TRIGGER not in ended.content.decode()


def test_the_leaderboard_is_polled_while_the_challenge_is_open() -> None:
    challenge = published_challenge()
    ada, grace = participants(challenge, 2)
    SubmissionFactory(participant=ada, state=SubmissionState.SCORED, public_score=0.9)
    client = logged_in(ada.user)
    url = f"/challenges/{challenge.slug}/leaderboard/live/"

    open_board = client.get(url, {"order": "-cpu_seconds"}).content.decode()
    assert TRIGGER in open_board
    assert "order=-cpu_seconds" in open_board
    current = version(open_board)
    assert client.get(url, {"order": "-cpu_seconds", "v": current}).status_code == 204
    # Another reader sees the same rows with their own row marked: another version.
    assert version(logged_in(grace.user).get(url).content.decode()) != current

    challenge.opens_at = timezone.now() - timedelta(days=2)
    challenge.closes_at = timezone.now() - timedelta(seconds=1)
    challenge.save()
    closed = client.get(url, {"v": current})
    assert closed.status_code == 286
    assert TRIGGER not in closed.content.decode()


def test_an_endpoint_is_polled_while_it_is_probed() -> None:
    challenge = published_challenge()
    ada, grace = participants(challenge, 2)
    endpoint = Endpoint.objects.create(
        challenge=challenge, participant=ada, url="http://127.0.0.1:9/", protocol="json"
    )
    client = logged_in(ada.user)
    url = f"/endpoints/{endpoint.pk}/live/"

    first = client.get(url).content.decode()
    assert TRIGGER in first
    assert client.get(url, {"v": version(first)}).status_code == 204
    assert logged_in(grace.user).get(url).status_code == 404
    endpoint.active = False  # paused by the teacher: nothing moves any more
    endpoint.save()
    paused = client.get(url)
    assert paused.status_code == 286
    assert TRIGGER not in paused.content.decode()


def test_a_poll_after_the_session_ended_reloads_the_page() -> None:
    challenge = published_challenge()
    (ada,) = participants(challenge, 1)
    submission = SubmissionFactory(participant=ada, state=SubmissionState.QUEUED)
    url = f"/submissions/{submission.pk}/live/"
    # htmx would follow a redirect and swap the login form into the page.
    polled = Client().get(url, headers={"HX-Request": "true"})
    assert polled.status_code == 200
    assert polled.headers["HX-Refresh"] == "true"
    assert Client().get(url).status_code == 302  # a person gets the login page
