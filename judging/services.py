"""Writes to submissions: upload, feeding the judge queue, recording, reaping, cancel.

Every state change is a conditional update on the row's current state (and the
attempt it concerns), so the feeder, a late result, the reaper and a cancel can
race without a submission being judged into two states or recorded twice; each
change writes a SubmissionEvent for the timeline.

`attempts` counts judging runs that started. A job that waited in the broker
until its message expired goes back to `new` without costing an attempt; a run
whose worker vanished (no heartbeat within the lease) costs one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction as db_transaction
from django.db.models import F, QuerySet, Window
from django.db.models.functions import RowNumber
from django.utils import timezone

from challenges.models import Challenge, Participant
from challenges.selectors import hidden_labels
from judging.code_check import SubmissionRejected, estimator_source_check
from judging.jobs import judge_job
from judging.models import (
    COUNTED_STATES,
    ENDED_STATES,
    IN_FLIGHT_STATES,
    FoldResult,
    Submission,
    SubmissionEvent,
    SubmissionState,
)
from judging.scoring import ScoringError, hidden_test_scores
from ppipe_site.content_store import artifact_store
from ppipe_site.outages import reaping_paused
from ppipe_site.worker_clocks import worker_described

logger = logging.getLogger(__name__)
State = SubmissionState

# Set by judging.tasks: sends one job to the judge queue, returns the task id.
JobSender = Callable[[int, dict[str, Any], datetime], str]
Revoker = Callable[[str], None]

_RESULT_FIELDS = ("cv_mean", "cv_std", "cpu_seconds", "peak_memory_mb", "fit_seconds")
_TAIL_CHARS = 8000


def _event(submission_id: int, state: str, attempt: int, message: str = "") -> None:
    SubmissionEvent.objects.create(
        submission_id=submission_id, state=state, attempt=attempt, message=message
    )


def _feed_now() -> None:
    # Lazy: the services stay importable (and testable) without the Celery wiring.
    from judging.tasks import feed_judge_queue

    try:
        feed_judge_queue.apply_async(retry=False)
    except Exception:  # the broker is down: what is committed waits for beat's tick
        logger.warning("the judge feeder was not woken; its next periodic tick will send the job")


def _feed_after_commit() -> None:
    db_transaction.on_commit(_feed_now)


# --- upload -----------------------------------------------------------------
def _check_open(challenge: Challenge, now: datetime) -> None:
    if not challenge.is_published:
        raise SubmissionRejected(f"'{challenge.name}' is not published yet.")
    if now < challenge.opens_at:
        raise SubmissionRejected(
            f"'{challenge.name}' opens for submissions at {challenge.opens_at:%Y-%m-%d %H:%M %Z}."
        )
    if now >= challenge.closes_at:
        raise SubmissionRejected(
            f"'{challenge.name}' closed at {challenge.closes_at:%Y-%m-%d %H:%M %Z}."
        )


def _check_daily_limit(participant: Participant, now: datetime) -> None:
    limit = participant.challenge.submissions_per_day
    since = now - timedelta(days=1)
    counted = list(
        Submission.objects.filter(
            participant=participant, created_at__gte=since, state__in=COUNTED_STATES
        )
        .order_by("created_at")
        .values_list("created_at", flat=True)
    )
    if len(counted) >= limit:
        next_at = counted[len(counted) - limit] + timedelta(days=1)
        raise SubmissionRejected(
            f"You have used your {limit} submissions of the last 24 hours; the next one is "
            f"possible at {next_at:%Y-%m-%d %H:%M %Z}. Failed and cancelled submissions "
            "do not count."
        )


def submission_create(
    *, participant: Participant, filename: str, content: bytes, wake_feeder: bool = True
) -> Submission:
    """Accept an estimator.py for judging, or raise SubmissionRejected saying why.

    `wake_feeder=False` leaves the sending to beat's next tick (for set-up, which
    runs before the broker is up)."""
    now = timezone.now()
    _check_open(participant.challenge, now)
    estimator_source_check(content, max_bytes=settings.PPIPE_MAX_SUBMISSION_KB * 1024)
    # Stored by content before the row exists: a failed transaction leaves at most an
    # unreferenced file, never a row pointing at nothing.
    code_sha256 = artifact_store().put_bytes(content)
    with db_transaction.atomic():
        # One upload at a time per participant, so two racing uploads cannot both
        # pass the daily limit.
        Participant.objects.select_for_update().filter(pk=participant.pk).first()
        _check_daily_limit(participant, now)
        submission = Submission.objects.create(
            challenge=participant.challenge,
            participant=participant,
            filename=(filename or "estimator.py")[-200:],
            code_sha256=code_sha256,
            code_bytes=len(content),
            max_attempts=settings.PPIPE_JUDGE_MAX_ATTEMPTS,
        )
        _event(submission.pk, State.NEW, 0, f"uploaded {submission.filename}, {len(content)} bytes")
        if wake_feeder:
            _feed_after_commit()
    return submission


def submission_upload(*, participant: Participant, upload: UploadedFile) -> Submission:
    """submission_create for a file posted to a page or the API: never reads more
    than one byte past the size limit into memory."""
    limit = settings.PPIPE_MAX_SUBMISSION_KB * 1024
    return submission_create(
        participant=participant,
        filename=upload.name or "estimator.py",
        content=upload.read(limit + 1),
    )


# --- feeding ----------------------------------------------------------------
def _fair_queue() -> QuerySet[Submission]:
    """Waiting submissions, participants taken in turns: everyone's oldest first,
    then everyone's second oldest, and so on, so one student's fifty submissions
    wait behind a classmate's single one."""
    return (
        Submission.objects.filter(state=State.NEW)
        .annotate(
            turn=Window(
                RowNumber(), partition_by=[F("participant_id")], order_by=[F("created_at"), F("id")]
            )
        )
        .order_by("turn", "created_at", "id")
    )


def submissions_feed(*, send: JobSender, now: datetime | None = None) -> int:
    """Send waiting submissions to the judge queue, keeping it at most DEPTH deep.

    Two feeders racing can overshoot the depth by what each sent; they can never
    send the same submission twice (the claim is conditional).
    """
    now = now or timezone.now()
    free = settings.PPIPE_JUDGE_QUEUE_DEPTH - Submission.objects.filter(state=State.QUEUED).count()
    if free <= 0:
        return 0
    lease = now + timedelta(seconds=settings.PPIPE_JUDGE_QUEUE_SECONDS)
    sent = 0
    for row in _fair_queue().select_related("challenge__split")[: free * 2]:
        if sent >= free:
            break
        attempt = row.attempts + 1
        with db_transaction.atomic():
            claimed = Submission.objects.filter(
                id=row.id, state=State.NEW, attempts=row.attempts
            ).update(state=State.QUEUED, queued_at=now, lease_expires_at=lease)
            if not claimed:
                continue
            job = judge_job(submission=row, attempt=attempt)
            Submission.objects.filter(id=row.id).update(job=job)
            _event(row.id, State.QUEUED, attempt, f"run {attempt} of at most {row.max_attempts}")
            db_transaction.on_commit(_sender(send, row.id, job, lease))
        sent += 1
    return sent


def _sender(
    send: JobSender, submission_id: int, job: dict[str, Any], lease: datetime
) -> Callable[[], None]:
    def send_and_remember() -> None:
        task_id = send(submission_id, job, lease)
        Submission.objects.filter(id=submission_id).update(task_id=task_id)

    return send_and_remember


# --- what workers report ----------------------------------------------------
def _lease_from(now: datetime) -> datetime:
    return now + timedelta(seconds=settings.PPIPE_JUDGE_LEASE_SECONDS)


def submission_mark_started(
    *, submission_id: int, attempt: int, worker: str, reported_at: str | None = None
) -> bool:
    now = timezone.now()
    where = worker_described(worker=worker, reported_at=reported_at, now=now)
    with db_transaction.atomic():
        started = Submission.objects.filter(
            id=submission_id, state=State.QUEUED, attempts=attempt - 1
        ).update(
            state=State.RUNNING,
            attempts=attempt,
            started_at=now,
            lease_expires_at=_lease_from(now),
            worker=worker[:200],
        )
        if started:
            _event(submission_id, State.RUNNING, attempt, where)
            _feed_after_commit()
    return bool(started)


def submission_heartbeat(*, submission_id: int, attempt: int) -> bool:
    """A running job's worker is alive: extend its lease."""
    return bool(
        Submission.objects.filter(id=submission_id, state=State.RUNNING, attempts=attempt).update(
            lease_expires_at=_lease_from(timezone.now())
        )
    )


def _tail(text: Any) -> str:
    return str(text or "")[-_TAIL_CHARS:]


def _end(row: Submission, state: str, attempt: int, reason: str, **fields: Any) -> None:
    Submission.objects.filter(id=row.id).update(
        state=state, reason=reason, finished_at=timezone.now(), lease_expires_at=None, **fields
    )
    _event(row.id, state, attempt, reason or "scored")
    _feed_after_commit()


def _retry_or_fail(row: Submission, *, attempt: int, reason: str) -> str:
    """A run that ended through no fault of the student: judge again, a bounded
    number of times, then fail saying so."""
    if attempt < row.max_attempts:
        Submission.objects.filter(id=row.id).update(
            state=State.NEW, lease_expires_at=None, reason=""
        )
        _event(row.id, State.NEW, attempt, f"{reason}; it will be judged again")
        _feed_after_commit()
        return State.NEW
    _end(row, State.FAILED, attempt, f"{reason} (gave up after {attempt} runs)")
    return State.FAILED


def _is_current(row: Submission, attempt: int) -> bool:
    # The result may overtake the "started" message: a queued row whose next run is
    # this attempt is current too.
    return (row.state == State.RUNNING and row.attempts == attempt) or (
        row.state == State.QUEUED and row.attempts == attempt - 1
    )


def _record_scores(row: Submission, result: dict[str, Any], attempt: int) -> str:
    challenge = row.challenge
    try:
        scores = hidden_test_scores(
            labels=hidden_labels(challenge.split.labels_sha256),
            target_column=challenge.target_column,
            metric_name=challenge.metric,
            predictions=list(result.get("test_predictions") or []),
        )
    except ScoringError as error:
        reason = str(error)
        _end(row, State.FAILED, attempt, reason[:1].upper() + reason[1:] + ".", **_common(result))
        return State.FAILED
    FoldResult.objects.filter(submission=row).delete()
    FoldResult.objects.bulk_create(
        FoldResult(
            submission=row,
            index=int(fold["index"]),
            score=float(fold["score"]),
            fit_seconds=float(fold["fit_seconds"]),
            predict_seconds=float(fold["predict_seconds"]),
            cpu_seconds=float(fold["cpu_seconds"]),
            peak_memory_mb=float(fold["peak_memory_mb"]),
        )
        for fold in result.get("folds") or []
    )
    _end(
        row,
        State.SCORED,
        attempt,
        "",
        public_score=scores.public,
        private_score=scores.private,
        **{field: result.get(field) for field in _RESULT_FIELDS},
        **_common(result),
    )
    return State.SCORED


def _common(result: dict[str, Any]) -> dict[str, Any]:
    return {
        "stdout_tail": _tail(result.get("stdout_tail")),
        "stderr_tail": _tail(result.get("stderr_tail")),
        "wall_seconds": result.get("wall_seconds"),
        "provenance": result.get("provenance") or {},
        "worker": str(result.get("worker", ""))[:200],
    }


@db_transaction.atomic
def submission_record_result(*, result: dict[str, Any]) -> str:
    """Record what a judge worker reported, once: a result for a run that is no
    longer current (reaped, cancelled, already recorded) is noted and ignored."""
    submission_id, attempt = int(result["submission_id"]), int(result.get("attempt") or 0)
    row = (
        Submission.objects.select_for_update(of=("self",))
        .select_related("challenge__split")
        .filter(id=submission_id)
        .first()
    )
    if row is None:
        return "unknown"
    if not _is_current(row, attempt):
        _event(row.id, row.state, attempt, f"a late result of run {attempt} was ignored")
        return "stale"
    if not result.get("ok"):
        reason = str(result.get("reason") or "the judge worker gave no reason")
        if result.get("transient"):
            return _retry_or_fail(row, attempt=attempt, reason=reason)
        _end(row, State.FAILED, attempt, reason, **_common(result))
        return State.FAILED
    return _record_scores(row, result, attempt)


def submissions_reap(*, discard: Revoker | None = None, now: datetime | None = None) -> int:
    """Take back jobs whose lease ran out: a message no worker took goes back to
    waiting (and is discarded, should a worker find it later); a run whose worker
    stopped answering is judged again (bounded)."""
    now = now or timezone.now()
    if reaping_paused(term_seconds=settings.PPIPE_JUDGE_LEASE_SECONDS, now=now):
        return 0
    reaped = 0
    for row in Submission.objects.filter(state__in=IN_FLIGHT_STATES, lease_expires_at__lt=now):
        with db_transaction.atomic():
            if row.state == State.QUEUED:
                changed = Submission.objects.filter(
                    id=row.id, state=State.QUEUED, attempts=row.attempts
                ).update(state=State.NEW, lease_expires_at=None)
                if changed:
                    _event(row.id, State.NEW, row.attempts, "no judge worker took it in time")
                    if discard and row.task_id:
                        db_transaction.on_commit(partial(discard, row.task_id))
                    _feed_after_commit()
            else:
                locked = Submission.objects.select_for_update().get(id=row.id)
                if locked.state != State.RUNNING or locked.attempts != row.attempts:
                    continue
                who = f"the judge worker ({row.worker})" if row.worker else "the judge worker"
                _retry_or_fail(locked, attempt=row.attempts, reason=f"{who} stopped answering")
        reaped += 1
    return reaped


# --- people's actions -------------------------------------------------------
def submission_cancel(*, submission: Submission, revoke: Revoker, by: str = "its author") -> bool:
    """Cancel a submission that has not ended; a running job is stopped at once."""
    with db_transaction.atomic():
        current = Submission.objects.select_for_update().get(id=submission.pk)
        if current.state in ENDED_STATES:
            return False
        Submission.objects.filter(id=current.pk).update(
            state=State.CANCELLED,
            reason=f"Cancelled by {by}.",
            finished_at=timezone.now(),
            lease_expires_at=None,
        )
        _event(current.pk, State.CANCELLED, current.attempts, f"cancelled by {by}")
        if current.task_id and current.state in IN_FLIGHT_STATES:
            task_id = current.task_id
            db_transaction.on_commit(lambda: revoke(task_id))
        _feed_after_commit()
    return True


def submission_rejudge(*, submission: Submission) -> bool:
    """Judge an ended submission again from scratch (a teacher's action)."""
    with db_transaction.atomic():
        changed = Submission.objects.filter(id=submission.pk, state__in=ENDED_STATES).update(
            state=State.NEW,
            reason="",
            attempts=0,
            max_attempts=settings.PPIPE_JUDGE_MAX_ATTEMPTS,
            task_id="",
            finished_at=None,
            started_at=None,
            public_score=None,
            private_score=None,
            **dict.fromkeys(_RESULT_FIELDS),
        )
        if changed:
            FoldResult.objects.filter(submission_id=submission.pk).delete()
            _event(submission.pk, State.NEW, 0, "judge again (requested by the teacher)")
            _feed_after_commit()
    return bool(changed)


def challenge_rejudge(*, challenge: Challenge) -> int:
    """Judge again every scored or failed submission of a challenge."""
    ended = Submission.objects.filter(
        challenge=challenge, state__in=[State.SCORED, State.FAILED]
    ).only("id")
    return sum(submission_rejudge(submission=row) for row in ended)


def submission_select(*, submission: Submission) -> None:
    """Make this scored submission its author's pick for the final ranking."""
    if submission.state != State.SCORED:
        raise SubmissionRejected("Only a scored submission can be selected.", field="submission")
    with db_transaction.atomic():
        Submission.objects.filter(participant_id=submission.participant_id).update(selected=False)
        Submission.objects.filter(id=submission.pk).update(selected=True)
