"""Claiming, recording, retrying and reaping transactions: each is sent once per
attempt, recorded once, retried a bounded number of times, never stuck.

`RecordingSender` stands in for the broker so the database rules can be checked
alone; tests/test_release_end_to_end.py sends through Redis to real workers.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.db import connection
from django.utils import timezone

from challenges.services import challenge_publish
from dispatch.models import Transaction, TransactionState
from dispatch.services import (
    transaction_cancel,
    transaction_mark_started,
    transaction_record_result,
    transaction_retry,
    transactions_reap,
    transactions_send_due,
)
from tests.factories import ChallengeFactory, DestinationFactory

State = TransactionState


class RecordingSender:
    """Keeps the jobs sent, and each message (a batch of jobs) as sent."""

    def __init__(self) -> None:
        self.jobs: list[dict[str, Any]] = []
        self.messages: list[list[dict[str, Any]]] = []
        self.lock = threading.Lock()

    def __call__(self, jobs: list[dict[str, Any]], expires: datetime) -> str:
        with self.lock:
            self.jobs.extend(jobs)
            self.messages.append(jobs)
        return f"task-{jobs[0]['transaction_id']}-{jobs[0]['attempt']}"


def published_transaction(
    *, secret: str = "", releases: str = "1", due_in: float = -1
) -> Transaction:
    challenge = ChallengeFactory(
        first_release_at=timezone.now() + timedelta(seconds=due_in), release_proportions=releases
    )
    destination = DestinationFactory(owner=challenge.owner, path="/tmp/unused")
    if secret:
        destination.type, destination.secret_options = "s3", {"secret_access_key": secret}
        destination.save()
    challenge.release_plan.destinations.set([destination])
    challenge_publish(challenge=challenge)
    return Transaction.objects.filter(release__challenge=challenge).order_by("id").first()  # type: ignore[return-value]


def success(tx: Transaction, attempt: int = 1) -> dict[str, Any]:
    return {
        "transaction_id": tx.id,
        "attempt": attempt,
        "ok": True,
        "bytes": 123,
        "md5": "0" * 32,
        "sha256": "1" * 64,
        "verified": "size+md5",
        "duration_seconds": 0.2,
        "worker": "w1",
    }


def failure(tx: Transaction, attempt: int, *, transient: bool = True) -> dict[str, Any]:
    return {
        "transaction_id": tx.id,
        "attempt": attempt,
        "ok": False,
        "transient": transient,
        "error": "refused",
    }


@pytest.mark.django_db(transaction=True)
def test_a_due_transaction_is_sent_once_with_its_secrets_and_attempt_number() -> None:
    tx = published_transaction(secret="s3cr3t")
    sender = RecordingSender()

    sent_now, sent_again = transactions_send_due(send=sender), transactions_send_due(send=sender)

    assert (sent_now, sent_again) == (1, 0)
    assert sender.jobs[0]["attempt"] == 1
    assert sender.jobs[0]["destination"]["remote"]["options"]["secret_access_key"] == "s3cr3t"
    tx.refresh_from_db()
    assert (tx.state, tx.attempts, tx.task_id) == (State.QUEUED, 1, f"task-{tx.id}-1")


@pytest.mark.django_db(transaction=True)
def test_a_transaction_not_yet_due_waits() -> None:
    published_transaction(due_in=3600)

    assert transactions_send_due(send=RecordingSender()) == 0


@pytest.mark.django_db(transaction=True)
def test_two_beats_claiming_at_once_send_each_transaction_once() -> None:
    tx = published_transaction(releases="6")
    sender = RecordingSender()
    Transaction.objects.filter(release__challenge=tx.release.challenge).update(
        next_attempt_at=timezone.now()
    )

    def tick() -> None:
        transactions_send_due(send=sender)
        connection.close()

    threads = [threading.Thread(target=tick) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(job["transaction_id"] for job in sender.jobs) == sorted(
        Transaction.objects.filter(release__challenge=tx.release.challenge).values_list(
            "id", flat=True
        )
    )


@pytest.mark.django_db
def test_a_result_is_recorded_once() -> None:
    tx = published_transaction()
    transactions_send_due(send=RecordingSender())
    transaction_mark_started(transaction_id=tx.id, attempt=1, worker="w1")

    assert transaction_record_result(result=success(tx)) == State.DONE
    assert transaction_record_result(result=success(tx)) == "duplicate"

    tx.refresh_from_db()
    assert (tx.state, tx.bytes, tx.verified) == (State.DONE, 123, "size+md5")
    assert tx.events.filter(state=State.DONE, message__startswith="123 bytes").count() == 1


@pytest.mark.django_db
def test_transient_failures_retry_with_backoff_then_fail_with_the_reason(settings: Any) -> None:
    settings.PPIPE_DISPATCH_BACKOFF_SECONDS = 10
    tx = published_transaction()
    Transaction.objects.filter(id=tx.id).update(max_attempts=2)

    transactions_send_due(send=RecordingSender())
    before = timezone.now()
    assert transaction_record_result(result=failure(tx, 1)) == State.PLANNED
    tx.refresh_from_db()
    assert before + timedelta(seconds=4) < tx.next_attempt_at < before + timedelta(seconds=16)

    Transaction.objects.filter(id=tx.id).update(next_attempt_at=timezone.now())
    transactions_send_due(send=RecordingSender())
    assert transaction_record_result(result=failure(tx, 2)) == State.FAILED
    tx.refresh_from_db()
    assert tx.error == "refused (gave up after 2 attempts)"


@pytest.mark.django_db
def test_a_permanent_failure_ends_at_once_and_a_stale_one_is_ignored() -> None:
    tx = published_transaction()
    transactions_send_due(send=RecordingSender())

    assert transaction_record_result(result=failure(tx, 0)) == "stale"
    assert transaction_record_result(result=failure(tx, 1, transient=False)) == State.FAILED
    tx.refresh_from_db()
    assert (tx.state, tx.error) == (State.FAILED, "refused")


@pytest.mark.django_db
def test_the_reaper_takes_back_an_attempt_whose_lease_ran_out() -> None:
    tx = published_transaction()
    transactions_send_due(send=RecordingSender())
    transaction_mark_started(transaction_id=tx.id, attempt=1, worker="host-a pid 7")
    Transaction.objects.filter(id=tx.id).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )

    assert transactions_reap() == 1

    tx.refresh_from_db()
    assert tx.state == State.PLANNED
    assert "ran on host-a pid 7 past its lease" in tx.error
    assert transactions_reap() == 0


@pytest.mark.django_db
def test_cancel_stops_the_running_task_and_retry_sends_it_again(
    django_capture_on_commit_callbacks: Any,
) -> None:
    tx = published_transaction()
    with django_capture_on_commit_callbacks(execute=True):
        transactions_send_due(send=RecordingSender())
    tx.refresh_from_db()
    revoked: list[str] = []

    with django_capture_on_commit_callbacks(execute=True):
        assert transaction_cancel(transaction=tx, revoke=revoked.append)

    assert revoked == [f"task-{tx.id}-1"]
    tx.refresh_from_db()
    assert tx.state == State.CANCELLED
    assert transaction_retry(transaction=tx)
    tx.refresh_from_db()
    assert (tx.state, tx.max_attempts > tx.attempts) == (State.PLANNED, True)
