"""An endpoint whose scheduled probes all failed for at least the challenge's
limit sends its student one alert per outage, and one notice when a probe
succeeds again; a shorter run of failures, or a challenge that switched alerts
off, sends nothing."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from notifications.endpoint_outages import endpoint_outages_detect
from notifications.models import ChallengeNotificationSettings
from probing.models import Endpoint, Probe, ProbeKind, ProbeState
from probing.services import endpoint_register
from tests.notifications import eager_tasks
from tests.submissions import participants, published_challenge

pytestmark = pytest.mark.django_db
NOW = timezone.now()


def endpoint(down_after_minutes: int = 10) -> Endpoint:
    challenge = published_challenge(probe_interval_seconds=60, opens_at=NOW - timedelta(days=1))
    ChallengeNotificationSettings.objects.create(
        challenge=challenge, endpoint_down_minutes=down_after_minutes
    )
    student = participants(challenge, 1)[0]
    return endpoint_register(participant=student, url="http://model.example.org/", protocol="json")[
        0
    ]


def probes(target: Endpoint, outcome: str, minutes_ago: range) -> None:
    for minutes in minutes_ago:
        Probe.objects.create(
            endpoint=target,
            kind=ProbeKind.SCHEDULED,
            state=ProbeState.LOST if outcome == "lost" else ProbeState.DONE,
            scheduled_at=NOW - timedelta(minutes=minutes),
            outcome=outcome,
            detail="connection refused" if outcome != "ok" else "",
        )


def detect(capture: Any, now: datetime = NOW) -> tuple[int, int]:
    with eager_tasks(), capture(execute=True):
        return endpoint_outages_detect(now=now)


def test_an_outage_longer_than_the_limit_sends_one_alert(
    django_capture_on_commit_callbacks: Any, mailoutbox: list[Any]
) -> None:
    target = endpoint(down_after_minutes=10)
    probes(target, "ok", range(30, 14, -1))
    probes(target, "connection_error", range(14, 2, -1))
    probes(target, "lost", range(2, -1, -1))

    assert detect(django_capture_on_commit_callbacks) == (1, 0)
    assert detect(django_capture_on_commit_callbacks) == (0, 0)  # the next tick: same outage

    (sent,) = mailoutbox
    assert sent.to == [target.participant.user.email]
    assert f'endpoint for "{target.challenge.name}" is down' in sent.subject
    assert "15 probes over 14 minutes" in sent.body
    assert f"/endpoints/{target.pk}/" in sent.body


def test_failures_shorter_than_the_limit_or_alerts_off_send_nothing(
    django_capture_on_commit_callbacks: Any, mailoutbox: list[Any]
) -> None:
    brief = endpoint(down_after_minutes=10)
    probes(brief, "ok", range(20, 5, -1))
    probes(brief, "http_error", range(5, -1, -1))
    silenced = endpoint(down_after_minutes=0)
    probes(silenced, "http_error", range(60, -1, -1))

    assert detect(django_capture_on_commit_callbacks) == (0, 0)
    assert mailoutbox == []


def test_the_student_hears_when_it_is_back_and_of_the_next_outage(
    django_capture_on_commit_callbacks: Any, mailoutbox: list[Any]
) -> None:
    target = endpoint(down_after_minutes=5)
    probes(target, "http_error", range(40, 29, -1))
    assert detect(django_capture_on_commit_callbacks, NOW - timedelta(minutes=30)) == (1, 0)
    probes(target, "ok", range(29, 20, -1))
    probes(target, "http_error", range(20, -1, -1))

    assert detect(django_capture_on_commit_callbacks) == (1, 1)

    subjects = [message.subject for message in mailoutbox]
    assert [s.rsplit(" ", 2)[-2:] for s in subjects] == [
        ["is", "down"],
        ["back", "up"],
        ["is", "down"],
    ]
    assert "answered a probe again" in mailoutbox[1].body
