"""A delivered release tells each student who receives it, once per release
however many destinations it went to: per-student folders tell their student,
a shared destination tells every participant; a duplicate report tells no one
again."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from challenges.models import Challenge
from challenges.services import challenge_publish
from dispatch.models import Transaction
from dispatch.services import transaction_record_result, transactions_record_results
from dispatch.signals import release_delivered
from tests.factories import ChallengeFactory, DestinationFactory
from tests.notifications import eager_tasks, mails_to
from tests.submissions import participants

pytestmark = pytest.mark.django_db


def published(*, per_student: bool, destinations: int, students: int) -> Challenge:
    challenge = ChallengeFactory(
        first_release_at=timezone.now() - timedelta(seconds=1),
        release_proportions="2",
        release_per_participant=per_student,
    )
    challenge.release_plan.destinations.set(
        [DestinationFactory(owner=challenge.owner) for _ in range(destinations)]
    )
    participants(challenge, students)
    challenge_publish(challenge=challenge)
    return challenge


def success(tx: Transaction) -> dict[str, Any]:
    return {
        "transaction_id": tx.id,
        "attempt": 1,
        "ok": True,
        "bytes": 123,
        "md5": "0" * 32,
        "sha256": "1" * 64,
        "verified": "size+md5",
        "duration_seconds": 0.2,
        "worker": "w1",
    }


def delivered(tx: Transaction) -> None:
    transaction_record_result(result=success(tx))


def deliver_all(challenge: Challenge, capture: Any, sequence: int = 1) -> None:
    rows = Transaction.objects.filter(release__challenge=challenge, release__sequence=sequence)
    with eager_tasks(), capture(execute=True):
        for tx in rows:
            delivered(tx)


def test_per_student_folders_send_each_student_one_mail_per_release(
    django_capture_on_commit_callbacks: Any, mailoutbox: list[Any]
) -> None:
    challenge = published(per_student=True, destinations=2, students=2)

    deliver_all(challenge, django_capture_on_commit_callbacks)

    assert len(mailoutbox) == 2
    for participant in challenge.participants.select_related("user"):
        (sent,) = mails_to(participant.user.email)
        assert f'Release 1 of "{challenge.name}" has arrived' in sent.subject
        assert participant.user.username in sent.body  # their own folder's path
        assert f"/challenges/{challenge.slug}/" in sent.body
        assert "switch them off" in sent.body


def test_a_shared_destination_tells_every_participant_once(
    django_capture_on_commit_callbacks: Any, mailoutbox: list[Any]
) -> None:
    challenge = published(per_student=False, destinations=2, students=3)

    deliver_all(challenge, django_capture_on_commit_callbacks)
    deliver_all(challenge, django_capture_on_commit_callbacks)  # reported again

    assert sorted(m.to[0] for m in mailoutbox) == sorted(
        challenge.participants.values_list("user__email", flat=True)
    )
    deliver_all(challenge, django_capture_on_commit_callbacks, sequence=2)
    assert len(mailoutbox) == 6


def test_a_student_who_switched_releases_off_gets_none(
    client: Any, django_capture_on_commit_callbacks: Any, mailoutbox: list[Any]
) -> None:
    challenge = published(per_student=False, destinations=1, students=2)
    quiet, told = challenge.participants.select_related("user")
    client.force_login(quiet.user)
    assert (
        client.put(
            "/api/notifications/preferences/", {"releases": False}, content_type="application/json"
        ).status_code
        == 200
    )

    deliver_all(challenge, django_capture_on_commit_callbacks)

    assert [m.to for m in mailoutbox] == [[told.user.email]]


def test_a_batch_of_deliveries_is_announced_once_and_tells_each_student(
    django_capture_on_commit_callbacks: Any, mailoutbox: list[Any]
) -> None:
    challenge = published(per_student=True, destinations=1, students=3)
    rows = list(Transaction.objects.filter(release__challenge=challenge, release__sequence=1))
    announced: list[list[int]] = []

    def remember(*, transaction_ids: list[int], **_: Any) -> None:
        announced.append(sorted(transaction_ids))

    release_delivered.connect(remember, dispatch_uid="test-batch-announced")
    try:
        with eager_tasks(), django_capture_on_commit_callbacks(execute=True):
            transactions_record_results(results=[success(tx) for tx in rows])
    finally:
        release_delivered.disconnect(dispatch_uid="test-batch-announced")

    assert announced == [sorted(tx.id for tx in rows)]  # one notice task, not three
    assert sorted(m.to[0] for m in mailoutbox) == sorted(
        challenge.participants.values_list("user__email", flat=True)
    )
