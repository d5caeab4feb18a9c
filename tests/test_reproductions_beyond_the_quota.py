"""Reproductions are counted like submissions: its author may ask for as many in
24 hours as the challenge allows submissions; the next answers 429 with
`Retry-After` and says when. A teacher's reproductions are not counted."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from judging.models import Reproduction
from tests.factories import ChallengeFactory, SubmissionFactory
from tests.test_api_challenges import token_client

pytestmark = pytest.mark.django_db

JOB = {"kind": "judge", "limits": {"wall_seconds": 10}}


def test_the_author_past_the_daily_quota_gets_a_429_saying_when() -> None:
    challenge = ChallengeFactory(submissions_per_day=2)
    first = SubmissionFactory(challenge=challenge, state="scored", job=JOB, public_score=0.9)
    second = SubmissionFactory(
        challenge=challenge,
        participant=first.participant,
        state="scored",
        job=JOB,
        public_score=0.8,
    )
    client = token_client(first.participant.user)
    asked = [client.post(f"/api/submissions/{first.pk}/reproduce/") for _ in range(2)]
    oldest = Reproduction.objects.order_by("requested_at").first()
    assert oldest is not None
    # The oldest was asked an hour ago: the next is possible 23 hours from now.
    Reproduction.objects.filter(pk=oldest.pk).update(
        requested_at=timezone.now() - timedelta(hours=1)
    )

    refused = client.post(f"/api/submissions/{second.pk}/reproduce/")

    assert [answer.status_code for answer in asked] == [202, 202]
    assert refused.status_code == 429
    wait = int(refused["Retry-After"])
    assert 23 * 3600 - 60 < wait <= 23 * 3600
    next_at = oldest.requested_at + timedelta(days=1) - timedelta(hours=1)
    assert f"{timezone.localtime(next_at):%Y-%m-%d %H:%M}" in refused.json()["detail"]
    assert "2 reproductions in the last 24 hours" in refused.json()["detail"]
    assert Reproduction.objects.count() == 2


def test_the_teacher_is_not_counted() -> None:
    challenge = ChallengeFactory(submissions_per_day=1)
    submission = SubmissionFactory(challenge=challenge, state="scored", job=JOB, public_score=0.9)
    author = token_client(submission.participant.user)
    teacher = token_client(challenge.owner)

    assert author.post(f"/api/submissions/{submission.pk}/reproduce/").status_code == 202
    assert teacher.post(f"/api/submissions/{submission.pk}/reproduce/").status_code == 202
    assert teacher.post(f"/api/submissions/{submission.pk}/reproduce/").status_code == 202
    assert author.post(f"/api/submissions/{submission.pk}/reproduce/").status_code == 429
