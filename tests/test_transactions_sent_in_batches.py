"""Due transactions go out in batches: one challenge's releases to all its student
folders in one message (at most PPIPE_DISPATCH_GROUP_SIZE), each transaction
keeping its own attempt, timeline and result; a failure in a batch sends back only
that transaction, and the next tick sends only it."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from challenges.models import Challenge
from challenges.services import challenge_publish, participant_enroll
from dispatch.models import Transaction, TransactionState
from dispatch.services import (
    transaction_cancel,
    transactions_mark_started,
    transactions_record_results,
    transactions_send_due,
)
from tests.factories import ChallengeFactory, DestinationFactory, UserFactory
from tests.test_transaction_lifecycle import RecordingSender, failure, success

State = TransactionState


def class_of(students: int, *, releases: str = "1") -> Challenge:
    challenge = ChallengeFactory(
        first_release_at=timezone.now() - timedelta(seconds=1),
        release_proportions=releases,
        release_per_participant=True,
    )
    challenge.release_plan.destinations.set(
        [DestinationFactory(owner=challenge.owner, path="/srv/class")]
    )
    for n in range(students):
        participant_enroll(challenge=challenge, user=UserFactory(username=f"student{n}"))
    challenge_publish(challenge=challenge)
    return challenge


def transactions(challenge: Challenge) -> list[Transaction]:
    return list(Transaction.objects.filter(release__challenge=challenge).order_by("id"))


@pytest.mark.django_db
def test_a_release_to_every_student_folder_is_one_message(
    django_capture_on_commit_callbacks: Any,
) -> None:
    challenge = class_of(12)
    sender = RecordingSender()

    with django_capture_on_commit_callbacks(execute=True):
        assert transactions_send_due(send=sender) == 12

    [message] = sender.messages
    assert sorted(job["participant"] for job in message) == sorted(f"student{n}" for n in range(12))
    rows = transactions(challenge)
    assert {row.task_id for row in rows} == {sender_task_id(message)}
    assert all(row.state == State.QUEUED and row.attempts == 1 for row in rows)
    assert all(row.events.filter(state=State.QUEUED).count() == 1 for row in rows)


def sender_task_id(message: list[dict[str, Any]]) -> str:
    return f"task-{message[0]['transaction_id']}-{message[0]['attempt']}"


@pytest.mark.django_db
def test_a_batch_holds_at_most_the_group_size_in_release_order(
    settings: Any, django_capture_on_commit_callbacks: Any
) -> None:
    settings.PPIPE_DISPATCH_GROUP_SIZE = 4
    challenge = class_of(3, releases="3")
    Transaction.objects.filter(release__challenge=challenge).update(next_attempt_at=timezone.now())
    sender = RecordingSender()

    with django_capture_on_commit_callbacks(execute=True):
        assert transactions_send_due(send=sender) == 9

    assert [len(message) for message in sender.messages] == [4, 4, 1]
    sequences = [job["sequence"] for message in sender.messages for job in message]
    assert sequences == sorted(sequences)


@pytest.mark.django_db
def test_a_failure_in_a_batch_sends_back_only_its_transaction(
    django_capture_on_commit_callbacks: Any,
) -> None:
    challenge = class_of(3)
    transactions_send_due(send=RecordingSender())
    first, second, third = transactions(challenge)
    assert (
        transactions_mark_started(
            started=[(row.id, 1) for row in (first, second, third)], worker="w1"
        )
        == 3
    )

    outcomes = transactions_record_results(
        results=[success(first), failure(second, 1), success(third)]
    )

    assert outcomes == {State.DONE: 2, State.PLANNED: 1}
    assert [row.state for row in transactions(challenge)] == [State.DONE, State.PLANNED, State.DONE]
    for row in (first, third):
        assert list(row.events.values_list("state", flat=True)) == [
            State.PLANNED, State.QUEUED, State.RUNNING, State.DONE
        ]  # fmt: skip
    Transaction.objects.filter(id=second.id).update(next_attempt_at=timezone.now())
    again = RecordingSender()
    with django_capture_on_commit_callbacks(execute=True):
        transactions_send_due(send=again)
    assert [[job["transaction_id"] for job in message] for message in again.messages] == [
        [second.id]
    ]
    assert again.jobs[0]["attempt"] == 2


@pytest.mark.django_db
def test_a_batch_started_twice_or_late_changes_nothing_more() -> None:
    challenge = class_of(2)
    transactions_send_due(send=RecordingSender())
    rows = transactions(challenge)
    started = [(row.id, 1) for row in rows]

    assert transactions_mark_started(started=started, worker="w1") == 2
    assert transactions_mark_started(started=started, worker="w2") == 0

    assert all(row.events.filter(state=State.RUNNING).count() == 1 for row in rows)
    assert transactions_record_results(results=[success(row) for row in rows]) == {State.DONE: 2}
    assert transactions_record_results(results=[success(row) for row in rows]) == {"duplicate": 2}


@pytest.mark.django_db
def test_cancelling_one_of_a_batch_leaves_the_others_message_running(
    django_capture_on_commit_callbacks: Any,
) -> None:
    challenge = class_of(2)
    with django_capture_on_commit_callbacks(execute=True):
        transactions_send_due(send=RecordingSender())
    first, second = transactions(challenge)
    revoked: list[str] = []

    with django_capture_on_commit_callbacks(execute=True):
        assert transaction_cancel(transaction=first, revoke=revoked.append)
    assert revoked == []
    assert "its batch goes on" in first.events.get(state=State.CANCELLED).message

    with django_capture_on_commit_callbacks(execute=True):
        assert transaction_cancel(transaction=second, revoke=revoked.append)
    assert revoked == [second.task_id]
    assert second.events.get(state=State.CANCELLED).message == "cancelled"
