"""Writes to releases and transactions: planning, claiming, recording, reaping.

Every state change is a conditional update on the row's current state, so two
beats, a late result and the reaper can race without a transaction being sent
or recorded twice; each change also writes a TransactionEvent for the timeline.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction as db_transaction
from django.db.models import Q
from django.utils import timezone

from challenges.models import Challenge, Participant
from dispatch import signals
from dispatch.batches import batches
from dispatch.jobs import release_job, with_secrets
from dispatch.models import (
    ACTIVE_STATES,
    Destination,
    Release,
    Transaction,
    TransactionEvent,
    TransactionState,
)
from dispatch.selectors import planned_releases
from foundation.database_outages import reaping_paused
from foundation.failure_kinds import result_failure_kind
from foundation.leases import Backoff, Lifecycle
from foundation.worker_clocks import worker_described
from worker_wing.jobs import FailureKind, ReleaseJobMessage

logger = logging.getLogger(__name__)
State = TransactionState

LIFECYCLE = Lifecycle(
    Transaction,
    waiting=State.PLANNED,
    claimed=State.QUEUED,
    running=State.RUNNING,
    failed=State.FAILED,
    # Every message sent costs an attempt: an upload may have begun before a loss.
    counts_at="claim",
    backoff=Backoff("PPIPE_DISPATCH_BACKOFF_SECONDS", "PPIPE_DISPATCH_BACKOFF_MAX_SECONDS"),
)

# Set by dispatch.tasks: sends a batch of jobs to the dispatch queue as one message
# and returns its id. A parameter, not an import, so these services stay testable
# and free of Celery wiring.
JobSender = Callable[[list[ReleaseJobMessage], datetime], str]
Revoker = Callable[[str], None]


def _event(transaction_id: int, state: str, attempt: int, message: str = "") -> None:
    TransactionEvent.objects.create(
        transaction_id=transaction_id, state=state, attempt=attempt, message=message
    )


# --- planning ---------------------------------------------------------------
def _plan(challenge: Challenge) -> list[Any]:
    return planned_releases(
        challenge,
        total_rows=challenge.split.train_rows,
        first_release_at=challenge.release_plan.first_release_at or timezone.now(),
    )


def _create_transaction(
    release: Release, destination: Destination, participant: Participant | None, *, due_at: datetime
) -> Transaction:
    created = Transaction.objects.create(
        release=release,
        destination=destination,
        participant=participant,
        next_attempt_at=due_at,
        max_attempts=settings.PPIPE_DISPATCH_MAX_ATTEMPTS,
        job={},
        remote_path="",
    )
    # The job names its own transaction id, so it is written once the row exists.
    job = release_job(
        transaction_id=created.id, release=release, destination=destination, participant=participant
    )
    Transaction.objects.filter(id=created.id).update(
        job=job, remote_path=job["destination"]["path"]
    )
    _event(created.id, State.PLANNED, 0, f"due {due_at:%Y-%m-%d %H:%M:%S %Z}")
    return created


def _recipients(challenge: Challenge) -> list[Participant | None]:
    if not challenge.release_plan.release_per_participant:
        return [None]
    return list(challenge.participants.select_related("user"))


def _create_release(challenge: Challenge, planned: Any) -> Release:
    release = Release.objects.create(
        challenge=challenge,
        sequence=planned.sequence,
        due_at=planned.due_at,
        row_start=planned.row_start,
        row_stop=planned.row_stop,
        destination_ids=list(planned.destination_ids),
    )
    recipients = _recipients(challenge)
    for destination in Destination.objects.filter(id__in=planned.destination_ids):
        for participant in recipients:
            _create_transaction(release, destination, participant, due_at=planned.due_at)
    return release


@db_transaction.atomic
def participant_releases_plan(*, participant: Participant) -> int:
    """Give a student who joined a per-student challenge every release: those
    already due go out at once, the others at their time. Returns how many."""
    challenge = participant.challenge
    if not challenge.is_published or not challenge.release_plan.release_per_participant:
        return 0
    now = timezone.now()
    created = 0
    for release in Release.objects.filter(challenge=challenge):
        have = set(
            Transaction.objects.filter(release=release, participant=participant).values_list(
                "destination_id", flat=True
            )
        )
        for destination in Destination.objects.filter(id__in=release.destination_ids).exclude(
            id__in=have
        ):
            _create_transaction(release, destination, participant, due_at=max(release.due_at, now))
            created += 1
    return created


@db_transaction.atomic
def releases_plan(*, challenge: Challenge) -> list[Release]:
    """Create the releases and their transactions of a just-published challenge."""
    return [_create_release(challenge, planned) for planned in _plan(challenge)]


@db_transaction.atomic
def releases_replan(*, challenge: Challenge) -> tuple[int, int]:
    """Rebuild the releases nothing has been sent for; keep the others as they are.

    Returns (releases rebuilt, releases kept).
    """
    started = Release.objects.filter(challenge=challenge).filter(
        Q(transactions__attempts__gt=0) | ~Q(transactions__state=State.PLANNED)
    )
    kept = set(started.values_list("sequence", flat=True))
    Release.objects.filter(challenge=challenge).exclude(sequence__in=kept).delete()
    rebuilt = [_create_release(challenge, p) for p in _plan(challenge) if p.sequence not in kept]
    return len(rebuilt), len(kept)


# --- sending ----------------------------------------------------------------
def transactions_send_due(*, send: JobSender, now: datetime | None = None) -> int:
    """Claim due planned transactions and send them to the dispatch queue in batches.

    Transactions of one challenge's training data go together, in the order of its
    releases, up to PPIPE_DISPATCH_GROUP_SIZE a message (dispatch/batches.py): a
    worker then serialises each release's bytes once and uploads the batch in one
    rclone call, and reports once for all of it. Each transaction keeps its own
    attempt, lease, timeline and result.

    A claim is a conditional update from `planned` with the attempt number read:
    a second beat (or a second tick) finds nothing left to claim. The message is
    sent after the claim commits, so a worker never sees a job the database
    does not know as queued.
    """
    now = now or timezone.now()
    due = list(
        Transaction.objects.filter(state=State.PLANNED, next_attempt_at__lte=now)
        .select_related("destination", "release")
        .order_by("next_attempt_at", "id")[: settings.PPIPE_DISPATCH_BATCH]
    )
    lease = now + timedelta(seconds=settings.PPIPE_DISPATCH_QUEUE_SECONDS)
    sent = 0
    for group in batches(due, size=settings.PPIPE_DISPATCH_GROUP_SIZE):
        # One database transaction per batch: its claims and timeline entries
        # commit together, then its one message goes.
        with db_transaction.atomic():
            claimed = [
                row
                for row in group
                if LIFECYCLE.claim(row.id, attempts=row.attempts, lease=lease, queued_at=now)
            ]
            if not claimed:
                continue
            TransactionEvent.objects.bulk_create(
                TransactionEvent(
                    transaction_id=row.id,
                    state=State.QUEUED,
                    attempt=row.attempts + 1,
                    message=f"attempt {row.attempts + 1} of {row.max_attempts}",
                )
                for row in claimed
            )
            jobs = [
                with_secrets(row.job, row.destination, attempt=row.attempts + 1) for row in claimed
            ]
            db_transaction.on_commit(_sender(send, [row.id for row in claimed], jobs, lease))
        sent += len(claimed)
    return sent


def _sender(
    send: JobSender, transaction_ids: list[int], jobs: list[ReleaseJobMessage], lease: datetime
) -> Callable[[], None]:
    def send_and_remember() -> None:
        # Every transaction of a batch travels in the same message, so they share its id.
        Transaction.objects.filter(id__in=transaction_ids).update(task_id=send(jobs, lease))

    return send_and_remember


# --- recording --------------------------------------------------------------
def transaction_mark_started(
    *, transaction_id: int, attempt: int, worker: str, reported_at: str | None = None
) -> bool:
    now = timezone.now()
    where = worker_described(worker=worker, reported_at=reported_at, now=now)
    lease = now + timedelta(
        seconds=settings.PPIPE_DISPATCH_TIME_LIMIT + settings.PPIPE_DISPATCH_LEASE_GRACE_SECONDS
    )
    with db_transaction.atomic():
        started = LIFECYCLE.start(
            transaction_id, attempt=attempt, lease=lease, started_at=now, worker=worker[:200]
        )
        if started:
            _event(transaction_id, State.RUNNING, attempt, where)
    return bool(started)


def transactions_mark_started(
    *, started: list[tuple[int, int]], worker: str, reported_at: str | None = None
) -> int:
    """A worker's one report that it began a batch: (transaction id, attempt) each.
    The same rules as one transaction's report, committed together."""
    now = timezone.now()
    where = worker_described(worker=worker, reported_at=reported_at, now=now)
    lease = now + timedelta(
        seconds=settings.PPIPE_DISPATCH_TIME_LIMIT + settings.PPIPE_DISPATCH_LEASE_GRACE_SECONDS
    )
    with db_transaction.atomic():
        running = [
            (transaction_id, attempt)
            for transaction_id, attempt in started
            if LIFECYCLE.start(
                transaction_id, attempt=attempt, lease=lease, started_at=now, worker=worker[:200]
            )
        ]
        TransactionEvent.objects.bulk_create(
            TransactionEvent(transaction_id=tx, state=State.RUNNING, attempt=attempt, message=where)
            for tx, attempt in running
        )
    return len(running)


def _retry_or_fail(
    row: Transaction, *, reason: str, transient: bool, now: datetime, kind: FailureKind
) -> str:
    """Send an attempt that did not succeed back to `planned` for a later retry, or end it
    (with the attempt's kind)."""
    final = reason if not transient else f"{reason} (gave up after {row.attempts} attempts)"
    outcome = LIFECYCLE.retry_or_fail(
        row,
        transient=transient,
        now=now,
        retry_fields={"error": reason[:4000]},
        fail_fields={"finished_at": now, "error": final[:4000], "failure_kind": kind},
    )
    if outcome.changed and outcome.state == State.PLANNED:
        assert outcome.at is not None
        _event(row.id, State.PLANNED, row.attempts, f"retry at {outcome.at:%H:%M:%S}: {reason}")
    elif outcome.changed:
        _event(row.id, State.FAILED, row.attempts, final)
    return outcome.state


def _announce_delivered(transaction_ids: list[int]) -> None:
    """After the commit: one signal for every transaction delivered in it, so that a
    batch's fifty deliveries become one notice task, not fifty."""
    if transaction_ids:
        db_transaction.on_commit(
            partial(
                signals.release_delivered.send, sender=Transaction, transaction_ids=transaction_ids
            )
        )


@db_transaction.atomic
def transaction_record_result(*, result: dict[str, Any], delivered: list[int] | None = None) -> str:
    """Record what a worker reported, once: idempotent by transaction id.

    A success is kept from any attempt unless the transaction already ended (the
    file is at the destination, verified). A failure counts only for the attempt
    now in flight: a late report of an attempt the reaper already replaced is noted
    in the timeline and changes nothing.

    A delivery is announced after the commit; a caller recording several results in
    one transaction passes `delivered` and announces them together.
    """
    transaction_id, attempt = int(result["transaction_id"]), int(result.get("attempt") or 0)
    now = timezone.now()
    row = Transaction.objects.select_for_update().filter(id=transaction_id).first()
    if row is None:
        return "unknown"
    if result.get("ok"):
        if row.state in (State.DONE, State.FAILED, State.CANCELLED):
            _event(
                row.id, row.state, attempt, f"a duplicate success of attempt {attempt} was ignored"
            )
            return "duplicate"
        Transaction.objects.filter(id=row.id).update(
            state=State.DONE,
            finished_at=now,
            lease_expires_at=None,
            bytes=result["bytes"],
            md5=result["md5"],
            sha256=result["sha256"],
            verified=result["verified"],
            duration_seconds=result["duration_seconds"],
            worker=str(result.get("worker", ""))[:200],
            error="",
            failure_kind="",
        )
        _event(
            row.id, State.DONE, attempt, f"{result['bytes']} bytes, verified {result['verified']}"
        )
        if delivered is None:
            _announce_delivered([row.id])
        else:
            delivered.append(row.id)
        return State.DONE
    if attempt != row.attempts or row.state not in ACTIVE_STATES:
        _event(
            row.id,
            row.state,
            attempt,
            f"late failure of attempt {attempt} ignored: {result.get('error')}",
        )
        return "stale"
    Transaction.objects.filter(id=row.id).update(
        duration_seconds=result.get("duration_seconds"), worker=str(result.get("worker", ""))[:200]
    )
    reason = str(result.get("error"))
    return _retry_or_fail(
        row,
        reason=reason,
        transient=bool(result.get("transient")),
        now=now,
        kind=result_failure_kind(result, reason, queue="dispatch"),
    )


def transactions_record_results(*, results: list[dict[str, Any]]) -> dict[str, int]:
    """A batch's results, each recorded as its own transaction's would be (once, by
    transaction id), in one database transaction. One that cannot be recorded (a bug
    of ours in it) is left to the reaper and does not hold back the others.
    Returns how many ended in each outcome."""
    outcomes: dict[str, int] = {}
    delivered: list[int] = []
    with db_transaction.atomic():
        for result in results:
            try:
                outcome = transaction_record_result(result=result, delivered=delivered)
            except (KeyError, TypeError, ValueError):
                logger.exception(
                    "result of transaction %s not recorded", result.get("transaction_id")
                )
                outcome = "unrecorded"
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
        _announce_delivered(delivered)
    return outcomes


def transactions_reap(*, discard: Revoker | None = None, now: datetime | None = None) -> int:
    """Take back queued or running attempts whose lease ran out (a lost message,
    a worker that died): retry them, or end them when attempts run out. A message
    no worker took is discarded, should a worker find it later."""
    now = now or timezone.now()
    if reaping_paused(term_seconds=settings.PPIPE_DISPATCH_LEASE_GRACE_SECONDS, now=now):
        return 0
    reaped = 0
    for row in LIFECYCLE.expired(now):
        where = (
            "waited in the queue"
            if row.state == State.QUEUED
            else f"ran on {row.worker or 'a worker'}"
        )
        with db_transaction.atomic():
            _retry_or_fail(
                row,
                reason=f"no answer: attempt {row.attempts} {where} past its lease",
                transient=True,
                now=now,
                kind=FailureKind.LOST,
            )
            if discard and row.state == State.QUEUED and row.task_id:
                db_transaction.on_commit(partial(discard, row.task_id))
        reaped += 1
    return reaped


# --- operator actions -------------------------------------------------------
def transaction_retry(*, transaction: Transaction) -> bool:
    """Send a failed or cancelled transaction again now, with a fresh set of attempts."""
    now = timezone.now()
    with db_transaction.atomic():
        changed = Transaction.objects.filter(
            id=transaction.id, state__in=[State.FAILED, State.CANCELLED]
        ).update(
            state=State.PLANNED,
            next_attempt_at=now,
            max_attempts=transaction.attempts + settings.PPIPE_DISPATCH_MAX_ATTEMPTS,
            finished_at=None,
            failure_kind="",
        )
        if changed:
            _event(transaction.id, State.PLANNED, transaction.attempts, "retry requested")
    return bool(changed)


def transaction_cancel(*, transaction: Transaction, revoke: Callable[[str], None]) -> bool:
    """Cancel a transaction that has not ended; a running upload is stopped."""
    with db_transaction.atomic():
        current = Transaction.objects.select_for_update().get(id=transaction.id)
        if current.state in (State.DONE, State.FAILED, State.CANCELLED):
            return False
        Transaction.objects.filter(id=current.id).update(
            state=State.CANCELLED,
            finished_at=timezone.now(),
            lease_expires_at=None,
            failure_kind=FailureKind.CANCELLED,
        )
        in_flight = current.task_id and current.state in ACTIVE_STATES
        # A batch's message carries other transactions too: stopping it would stop
        # theirs. It goes on; this one's result, should its file arrive, is ignored.
        shared = (
            in_flight
            and Transaction.objects.filter(task_id=current.task_id, state__in=ACTIVE_STATES)
            .exclude(id=current.id)
            .exists()
        )
        _event(
            current.id,
            State.CANCELLED,
            current.attempts,
            "cancelled (its batch goes on for the others: the file may still arrive)"
            if shared
            else "cancelled",
        )
        if in_flight and not shared:
            db_transaction.on_commit(lambda: revoke(current.task_id))
    return True
