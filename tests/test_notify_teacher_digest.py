"""Beat's daily digest tells each teacher of the failures of the last day and
the stuck work in their own challenges only, once a day, and not at all when
there is nothing to say or they switched it off."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from challenges.models import Challenge
from dispatch.models import Release, Transaction, TransactionState
from judging.models import Submission, SubmissionState
from notifications.digest import teacher_digests_send
from notifications.services import preferences_update
from tests.factories import ChallengeFactory, DestinationFactory, SubmissionFactory
from tests.notifications import eager_tasks, mails_to

pytestmark = pytest.mark.django_db


def challenge_with_problems(reason: str) -> tuple[Challenge, Submission, Transaction]:
    now = timezone.now()
    challenge = ChallengeFactory(published_at=now - timedelta(days=1))
    failed = SubmissionFactory(
        participant__challenge=challenge,
        state=SubmissionState.FAILED,
        reason=reason,
        finished_at=now - timedelta(hours=2),
    )
    release = Release.objects.create(
        challenge=challenge, sequence=3, due_at=now, row_start=0, row_stop=10
    )
    stuck = Transaction.objects.create(
        release=release,
        destination=DestinationFactory(owner=challenge.owner),
        state=TransactionState.RUNNING,
        attempts=1,
        next_attempt_at=now - timedelta(hours=1),
        lease_expires_at=now - timedelta(minutes=5),
        job={},
        remote_path="releases/3.csv",
    )
    return challenge, failed, stuck


def send(capture: Any) -> int:
    with eager_tasks(), capture(execute=True):
        return teacher_digests_send()


def test_a_teacher_digest_lists_their_failed_submission_and_stuck_release_only(
    django_capture_on_commit_callbacks: Any, mailoutbox: list[Any]
) -> None:
    mine, failed, stuck = challenge_with_problems("MemoryError in fit")
    theirs, other_failed, _ = challenge_with_problems("a reason of another class")

    assert send(django_capture_on_commit_callbacks) == 2

    (digest,) = mails_to(mine.owner.email)
    assert "Daily digest: 2 problems in your challenges" in digest.subject
    assert f"failed: submission #{failed.pk} of {failed.participant.user}" in digest.body
    assert "MemoryError in fit" in digest.body
    assert f"stuck: release 3 of {mine.slug} to {stuck.destination.name}, running" in digest.body
    assert f"/admin/dispatch/transaction/{stuck.pk}/change/" in digest.body
    assert theirs.slug not in digest.body
    assert f"#{other_failed.pk} " not in digest.body
    assert "switch them off at" in digest.body


def test_one_digest_a_day_none_when_switched_off_or_nothing_to_say(
    django_capture_on_commit_callbacks: Any, mailoutbox: list[Any]
) -> None:
    mine, _, _ = challenge_with_problems("MemoryError in fit")
    quiet, _, _ = challenge_with_problems("MemoryError in fit")
    preferences_update(user_id=quiet.owner_id, changes={"teacher_digest": False})
    ChallengeFactory(published_at=timezone.now())  # a teacher with nothing wrong

    send(django_capture_on_commit_callbacks)
    assert send(django_capture_on_commit_callbacks) == 0  # beat ticked again that day

    assert [m.to for m in mailoutbox] == [[mine.owner.email]]
