"""The admin's notification log: a teacher reads the mails of their own
challenges (and their own digests), never another teacher's; they set their
challenges' endpoint alert limit."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from notifications.models import ChallengeNotificationSettings, Notification, NotificationKind
from tests.factories import ChallengeFactory, ParticipantFactory, TeacherFactory

pytestmark = pytest.mark.django_db
LOG = "/admin/notifications/notification/"


def logged(challenge: Any, subject: str) -> Notification:
    student = ParticipantFactory(challenge=challenge).user
    return Notification.objects.create(
        key=f"test:{subject}",
        kind=NotificationKind.SUBMISSION_SCORED,
        user=student,
        challenge=challenge,
        to_email=student.email,
        subject=subject,
        body="...",
        next_attempt_at=challenge.opens_at,
    )


def test_a_teacher_sees_only_their_challenges_mails(teacher_client: Client, teacher: Any) -> None:
    mine = logged(ChallengeFactory(owner=teacher), "[ppipe] mine")
    theirs = logged(ChallengeFactory(owner=TeacherFactory()), "[ppipe] theirs")

    listing = teacher_client.get(LOG).content.decode()

    assert "[ppipe] mine" in listing
    assert "[ppipe] theirs" not in listing
    assert teacher_client.get(f"{LOG}{mine.pk}/change/").status_code == 200
    assert teacher_client.get(f"{LOG}{theirs.pk}/change/").status_code == 302  # not found


def test_a_teacher_sets_the_endpoint_alert_limit_of_their_own_challenge(
    teacher_client: Client, teacher: Any
) -> None:
    mine, theirs = ChallengeFactory(owner=teacher), ChallengeFactory(owner=TeacherFactory())
    url = "/admin/notifications/challengenotificationsettings/add/"

    form = teacher_client.get(url).content.decode()
    saved = teacher_client.post(
        url, {"challenge": mine.pk, "endpoint_down_minutes": 30, "endpoint_back_notice": "on"}
    )

    assert mine.name in form
    assert theirs.name not in form
    assert saved.status_code == 302
    assert ChallengeNotificationSettings.objects.get(challenge=mine).endpoint_down_minutes == 30
