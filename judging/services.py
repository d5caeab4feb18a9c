"""Writes to submissions: upload, feeding the judge queue, recording, reaping, cancel,
the picks for the final ranking.

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
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Any
from uuid import uuid4

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction as db_transaction
from django.utils import timezone

from challenges.models import Challenge, Participant
from challenges.sections import challenge_sections
from foundation.content_store import artifact_store
from foundation.database_outages import reaping_paused
from foundation.failure_kinds import result_failure_kind
from foundation.leases import Lifecycle
from foundation.worker_clocks import worker_described
from judging import signals
from judging.contributivity import contributivity_mark_stale
from judging.feed_wakeups import feed_after_commit, feed_after_commit_if_room
from judging.jobs import judge_job
from judging.judge_queues import fair_queue, judge_queues_to_fill
from judging.models import (
    COUNTED_STATES,
    ENDED_STATES,
    IN_FLIGHT_STATES,
    ConfigurationResult,
    FoldResult,
    StepResult,
    Submission,
    SubmissionEvent,
    SubmissionKind,
    SubmissionState,
)
from judging.owner_store import JudgeStoreError, judge_store_stage
from judging.run_wording import run_gave_up, run_queued, run_will_retry
from judging.scoring import ScoringError
from judging.selectors import challenge_test_scores
from judging.sharing import code_shared, code_sharing_at
from teams.services import participant_lock
from worker_wing.jobs import FailureKind, JudgeJobMessage
from worker_wing.pipeline.check import submission_pipeline_check
from worker_wing.pipeline.code_check import SubmissionRejected
from worker_wing.pipeline.plan import (
    configuration_from_text,
    resource_choice,
    spec_as_data,
    submission_plans,
)

logger = logging.getLogger(__name__)
State = SubmissionState

LIFECYCLE = Lifecycle(
    Submission,
    waiting=State.NEW,
    claimed=State.QUEUED,
    running=State.RUNNING,
    failed=State.FAILED,
    # A message that waited unseen until its lease ran out costs the student nothing.
    counts_at="start",
)

# Set by judging.tasks: sends one job to the judge queue as the task of the id given
# (chosen when the job is claimed, so the claim records it: no write after sending).
JobSender = Callable[[int, JudgeJobMessage, datetime, str], object]
Revoker = Callable[[str], None]

_RESULT_FIELDS = ("cv_mean", "cv_std", "cpu_seconds", "peak_memory_mb", "fit_seconds")
_TAIL_CHARS = 8000


def _event(submission_id: int, state: str, attempt: int, message: str = "") -> None:
    SubmissionEvent.objects.create(
        submission_id=submission_id, state=state, attempt=attempt, message=message
    )


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


def _check_daily_limit(participant: Participant, team_id: int | None, now: datetime) -> None:
    """At most submissions_per_day in 24 hours per participant, or per team: every
    member's submissions count, whoever made them and whenever they joined."""
    limit = participant.challenge.judging_rules.submissions_per_day
    since = now - timedelta(days=1)
    whose: dict[str, object] = (
        {"participant__team_id": team_id} if team_id else {"participant": participant}
    )
    counted = list(
        Submission.objects.filter(**whose, created_at__gte=since, state__in=COUNTED_STATES)
        .order_by("created_at")
        .values_list("created_at", flat=True)
    )
    if len(counted) >= limit:
        next_at = counted[len(counted) - limit] + timedelta(days=1)
        who = "Your team has used its" if team_id else "You have used your"
        raise SubmissionRejected(
            f"{who} {limit} submissions of the last 24 hours; the next one is "
            f"possible at {next_at:%Y-%m-%d %H:%M %Z}. Failed and cancelled submissions "
            "do not count."
        )


def _check_parent(participant: Participant, parent: Submission, now: datetime) -> None:
    """A submission builds on a scored one of its own challenge, once the challenge
    shares its code (judging/sharing.py); callers have checked that the student
    may read the parent."""
    challenge = participant.challenge
    if parent.challenge_id != challenge.pk:
        raise SubmissionRejected(
            f"Submission #{parent.pk} is not one of '{challenge.name}': a submission builds "
            "only on another of its own challenge.",
            field="parent",
        )
    if not code_shared(challenge, now):
        at = code_sharing_at(challenge)
        raise SubmissionRejected(
            f"'{challenge.name}' shares its code from {at:%Y-%m-%d %H:%M %Z}: building on "
            "a submission is possible from then."
            if at
            else f"'{challenge.name}' does not share its submissions' code.",
            field="parent",
        )
    if parent.state != State.SCORED:
        raise SubmissionRejected(
            f"Submission #{parent.pk} is {parent.state}: only a scored submission can be built on.",
            field="parent",
        )


def submission_create(
    *,
    participant: Participant,
    filename: str,
    content: bytes,
    configuration: Mapping[str, object] | None = None,
    sweep: bool = False,
    parent: Submission | None = None,
    sweep_cores: Sequence[object] | None = None,
    sweep_batch_sizes: Sequence[object] | None = None,
    wake_feeder: bool = True,
) -> Submission:
    """Accept an estimator.py or a pipeline zip for judging, or raise SubmissionRejected
    saying why. A pipeline runs its `configuration` (a choice of alternatives; the
    first of each by default), or with `sweep` every configuration, on each of the
    challenge's sweep core counts and batch sizes (or those of them the student
    names in `sweep_cores` and `sweep_batch_sizes`). `parent`: the shared
    submission it was built from (its lineage, the credit).

    `wake_feeder=False` leaves the sending to beat's next tick (for set-up, which
    runs before the broker is up)."""
    now = timezone.now()
    challenge = participant.challenge
    _check_open(challenge, now)
    if parent is not None:
        _check_parent(participant, parent, now)
    filename = (filename or "estimator.py")[-200:]
    spec = submission_pipeline_check(
        content, filename=filename, max_source_bytes=settings.PPIPE_MAX_SUBMISSION_KB * 1024
    )
    is_pipeline = filename.lower().endswith(".zip")
    rules = challenge.judging_rules
    if not sweep and (sweep_cores or sweep_batch_sizes):
        raise SubmissionRejected(
            "Core counts and batch sizes are swept only in a sweep: ask for a sweep, or "
            "leave them out.",
            field="sweep",
        )
    plans = submission_plans(
        spec,
        configuration=configuration,
        sweep=sweep,
        max_configurations=rules.max_sweep_configurations,
        cores=resource_choice(
            sweep_cores, rules.sweep_cores, what="core counts", field="sweep_cores"
        )
        if sweep
        else [],
        batch_sizes=resource_choice(
            sweep_batch_sizes,
            rules.sweep_batch_sizes,
            what="batch sizes",
            field="sweep_batch_sizes",
        )
        if sweep
        else [],
    )
    # Stored by content before the row exists: a failed transaction leaves at most an
    # unreferenced file, never a row pointing at nothing.
    code_sha256 = artifact_store().put_bytes(content)
    with db_transaction.atomic():
        # One upload at a time per participant, and per team (its row is locked too),
        # so two racing uploads cannot both pass the daily limit.
        team_id = participant_lock(participant.pk)
        _check_daily_limit(participant, team_id, now)
        submission = Submission.objects.create(
            challenge=challenge,
            participant=participant,
            filename=filename,
            code_sha256=code_sha256,
            code_bytes=len(content),
            kind=SubmissionKind.PIPELINE if is_pipeline else SubmissionKind.ESTIMATOR,
            pipeline=spec_as_data(spec) if is_pipeline else {},
            plans=plans,
            sweep=sweep and len(plans) > 1,
            max_attempts=settings.PPIPE_JUDGE_MAX_ATTEMPTS,
            parent=parent,
        )
        what = f"uploaded {submission.filename}, {len(content)} bytes"
        if parent is not None:
            what += f", built on #{parent.pk}"
        if is_pipeline:
            what += f", {len(spec.steps)} steps, " + (
                f"a sweep of {len(plans)} configurations"
                if submission.sweep
                else f"configuration {_configuration_label(plans[0]['configuration'])}"
            )
        _event(submission.pk, State.NEW, 0, what)
        if wake_feeder:  # only if its queue has room: else the next freed slot sends it
            feed_after_commit_if_room(
                submission.pk, waiting_at_most=settings.PPIPE_JUDGE_QUEUE_DEPTH - 1
            )
    return submission


def _configuration_label(configuration: Mapping[str, object]) -> str:
    return ", ".join(f"{step}={choice}" for step, choice in configuration.items()) or "(default)"


def submission_upload(
    *,
    participant: Participant,
    upload: UploadedFile,
    configuration: str = "",
    sweep: bool = False,
    parent: Submission | None = None,
    sweep_cores: str = "",
    sweep_batch_sizes: str = "",
) -> Submission:
    """submission_create for a file posted to a page or the API: never reads more
    than one byte past the size limit into memory. `configuration` is as a student
    types it (`model=forest, featurize=tfidf`), the sweep's core counts and batch
    sizes as lists (`1, 2`)."""
    limit = settings.PPIPE_MAX_SUBMISSION_KB * 1024
    return submission_create(
        participant=participant,
        filename=upload.name or "estimator.py",
        content=upload.read(limit + 1),
        configuration=configuration_from_text(configuration),
        sweep=sweep,
        sweep_cores=_listed(sweep_cores),
        sweep_batch_sizes=_listed(sweep_batch_sizes),
        parent=parent,
    )


def submission_fork(*, participant: Participant, parent: Submission) -> Submission:
    """A new submission of the parent's code, as it was judged (its file or zip, read
    from the artifact store by digest, and its configuration or sweep), recording
    its parent: through submission_create, so the challenge must be open, the daily
    limit holds and the code is checked as any upload's. Callers have checked that
    the student may read the parent (judging/sharing.py)."""
    _check_parent(participant, parent, timezone.now())
    try:
        content = artifact_store().read_bytes(parent.code_sha256)
    except (OSError, ValueError):
        raise SubmissionRejected(
            f"The code of submission #{parent.pk} is not readable from the artifact store; "
            "ask your teacher.",
            field="parent",
        ) from None
    configuration = None
    if parent.kind == SubmissionKind.PIPELINE and parent.plans and not parent.sweep:
        configuration = parent.plans[0].get("configuration") or None
    return submission_create(
        participant=participant,
        filename=parent.filename,
        content=content,
        configuration=configuration,
        sweep=parent.sweep,
        parent=parent,
    )


def _listed(text: str) -> list[str]:
    return [part.strip() for part in text[:200].split(",") if part.strip()]


# --- feeding ----------------------------------------------------------------
def submissions_feed(*, send: JobSender, now: datetime | None = None) -> int:
    """Send waiting submissions to their judge queue, keeping each queue at most
    DEPTH deep: a challenge's own queue with no worker fills only itself, never
    holding back the shared pool.

    Two feeders racing can overshoot the depth by what each sent; they can never
    send the same submission twice (the claim is conditional).
    """
    now = now or timezone.now()
    lease = now + timedelta(seconds=settings.PPIPE_JUDGE_QUEUE_SECONDS)
    sent = 0
    for to_fill in judge_queues_to_fill():
        free = to_fill.free
        # The turns ranked on ids alone (the partial index, no join), then only the
        # few rows to send read whole, with what their jobs need.
        chosen = list(fair_queue(to_fill.challenge_ids).values_list("id", flat=True)[: free * 2])
        # Every section of the challenge too: the job's configuration digest reads
        # them all (a query each, per job, otherwise).
        sections = (f"challenge__{section.accessor}" for section in challenge_sections())
        rows = Submission.objects.filter(id__in=chosen).select_related(
            "challenge__split", "challenge__judging_rules__judge_store", *sections
        )
        in_turn = sorted(rows, key=lambda row: chosen.index(row.id))
        sent += _send_some(in_turn, free, send=send, now=now, lease=lease)
    return sent


def _send_some(
    rows: list[Submission], free: int, *, send: JobSender, now: datetime, lease: datetime
) -> int:
    sent = 0
    for row in rows:
        if sent >= free:
            break
        attempt = row.attempts + 1
        # Built before the claim, so the claim's one UPDATE writes them too: each
        # statement on submissions runs the standings' trigger (judging/standing_sql.py).
        job = judge_job(submission=row, attempt=attempt)
        task_id = str(uuid4())
        with db_transaction.atomic():
            if not LIFECYCLE.claim(
                row.id, attempts=row.attempts, lease=lease, queued_at=now, job=job, task_id=task_id
            ):
                continue
            queued = run_queued(attempt=attempt, max_attempts=row.max_attempts)
            _event(row.id, State.QUEUED, attempt, queued)
            db_transaction.on_commit(_sender(send, row, job, lease, task_id))
        sent += 1
    return sent


def _sender(
    send: JobSender, row: Submission, job: JudgeJobMessage, lease: datetime, task_id: str
) -> Callable[[], None]:
    store = row.challenge.judging_rules.judge_store

    def send_and_remember() -> None:
        if store is not None:
            try:
                judge_store_stage(store=store, job=job)
            except JudgeStoreError as error:
                # Not sent: the reaper takes it back when its queue lease runs out,
                # and the feeder tries again then.
                logger.warning("submission %s not sent: %s", row.pk, error)
                _event(row.pk, State.QUEUED, int(job["attempt"]), f"not sent yet: {error}")
                return
        # A job never sent keeps its task id: revoking it (reaper, cancel) is harmless.
        send(row.pk, job, lease, task_id)

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
        started = LIFECYCLE.start(
            submission_id,
            attempt=attempt,
            lease=_lease_from(now),
            started_at=now,
            worker=worker[:200],
        )
        if started:
            _event(submission_id, State.RUNNING, attempt, where)
            # A job left the broker: top it up once half of its reserve is gone (the
            # next result tops it up anyway; many judges can drain it sooner).
            feed_after_commit_if_room(
                submission_id, waiting_at_most=settings.PPIPE_JUDGE_QUEUE_DEPTH // 2
            )
    return bool(started)


def submission_heartbeat(*, submission_id: int, attempt: int) -> bool:
    """A running job's worker is alive: extend its lease."""
    return LIFECYCLE.heartbeat(submission_id, attempt=attempt, lease=_lease_from(timezone.now()))


def _tail(text: Any) -> str:
    return str(text or "")[-_TAIL_CHARS:]


def _end(row: Submission, state: str, attempt: int, reason: str, **fields: Any) -> None:
    Submission.objects.filter(id=row.id).update(
        state=state, reason=reason, finished_at=timezone.now(), lease_expires_at=None, **fields
    )
    _event(row.id, state, attempt, reason or "scored")
    feed_after_commit()
    db_transaction.on_commit(
        partial(
            signals.submission_ended.send, sender=Submission, submission_id=row.id, attempt=attempt
        )
    )


def _retry_or_fail(row: Submission, *, attempt: int, reason: str, kind: FailureKind) -> str:
    """A run that ended through no fault of the student: judge again, a bounded
    number of times, then fail saying so (with the last run's kind)."""
    outcome = LIFECYCLE.retry_or_fail(
        row, transient=True, now=timezone.now(), attempt=attempt, retry_fields={"reason": ""}
    )
    if outcome.state == State.NEW:
        if outcome.changed:
            again = run_will_retry(reason=reason, attempt=attempt, max_attempts=row.max_attempts)
            _event(row.id, State.NEW, attempt, again)
            feed_after_commit()
        return State.NEW
    # Ended with its reason, timeline and notice, as every failure is.
    _end(row, State.FAILED, attempt, run_gave_up(reason=reason, attempt=attempt), failure_kind=kind)
    return State.FAILED


def _record_scores(row: Submission, result: dict[str, Any], attempt: int) -> str:
    challenge = row.challenge
    try:
        scores = challenge_test_scores(challenge, list(result.get("test_predictions") or []))
    except ScoringError as error:
        reason = str(error)
        _end(
            row,
            State.FAILED,
            attempt,
            reason[:1].upper() + reason[1:] + ".",
            failure_kind=FailureKind.STUDENT_ERROR,
            **_common(result),
        )
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
    _record_configurations(row, result)
    _end(
        row,
        State.SCORED,
        attempt,
        "",
        public_score=scores.public,
        private_score=scores.private,
        **{field: result.get(field) for field in _RESULT_FIELDS},
        **_common(result),
        artifacts=result.get("artifacts") or {},
        sweep_not_run=_not_run(result),
    )
    # One more submission to blend: recomputed once for a burst of results.
    contributivity_mark_stale(challenge_id=row.challenge_id)
    return State.SCORED


def _within(latency_ms: float, sla_ms: int | None) -> bool | None:
    return None if sla_ms is None else latency_ms <= sla_ms


def _whole_or_none(value: Any) -> int | None:
    return None if value is None else max(0, int(value))


def _float_or_none(value: Any) -> float | None:
    return None if value is None else float(value)


def _not_run(result: dict[str, Any]) -> list[dict[str, Any]]:
    """A resource sweep's configurations the worker did not run, as the page shows them."""
    return [
        {
            "configuration": {
                str(k): str(v) for k, v in dict(row.get("configuration") or {}).items()
            },
            "cores": _whole_or_none(row.get("cores")),
            "batch_size": _whole_or_none(row.get("batch_size")),
            "reason": str(row.get("reason") or "")[:300],
        }
        for row in list(result.get("not_run") or [])[:1000]
    ]


def _record_configurations(row: Submission, result: dict[str, Any]) -> None:
    """Each configuration's score and costs, step by step, with the SLAs met: a step's
    95th-percentile batch latency within the per-step SLA, a configuration's within
    the end-to-end one and each of its steps within theirs."""
    challenge = row.challenge
    chosen = int(result.get("chosen") or 0)
    ConfigurationResult.objects.filter(submission=row).delete()
    for index, measured in enumerate(result.get("configurations") or []):
        steps = [
            StepResult(
                order=order,
                name=str(step["name"])[:40],
                target=str(step["target"])[:300],
                level=int(step["level"]),
                fit_seconds=float(step["fit_seconds"]),
                cpu_seconds=float(step["cpu_seconds"]),
                peak_memory_mb=float(step["peak_memory_mb"]),
                latency_p50_ms=float(step["latency_p50_ms"]),
                latency_p95_ms=float(step["latency_p95_ms"]),
                sla_met=_within(
                    float(step["latency_p95_ms"]), challenge.judging_rules.step_latency_sla_ms
                ),
            )
            for order, step in enumerate(measured.get("steps") or [])
        ]
        checks = [
            _within(
                float(measured["latency_p95_ms"]), challenge.judging_rules.pipeline_latency_sla_ms
            ),
            *(step.sla_met for step in steps),
        ]
        known = [check for check in checks if check is not None]
        configuration = ConfigurationResult.objects.create(
            submission=row,
            index=index,
            configuration=measured.get("configuration") or {},
            chosen=index == chosen,
            cv_mean=float(measured["cv_mean"]),
            cv_std=float(measured["cv_std"]),
            fit_seconds=float(measured["fit_seconds"]),
            cpu_seconds=float(measured["cpu_seconds"]),
            peak_memory_mb=float(measured["peak_memory_mb"]),
            latency_p50_ms=float(measured["latency_p50_ms"]),
            latency_p95_ms=float(measured["latency_p95_ms"]),
            batches=int(measured["batches"]),
            sla_met=all(known) if known else None,
            cores=_whole_or_none(measured.get("cores")),
            batch_size=_whole_or_none(measured.get("batch_size")),
            throughput_rows_per_second=_float_or_none(measured.get("throughput_rows_per_second")),
            wall_seconds=_float_or_none(measured.get("wall_seconds")),
        )
        for step in steps:
            step.configuration = configuration
        StepResult.objects.bulk_create(steps)


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
    row = LIFECYCLE.locked(
        submission_id,
        Submission.objects.select_related("challenge__split", "challenge__judging_rules"),
    )
    if row is None:
        return "unknown"
    if not LIFECYCLE.is_current(row, attempt):
        _event(row.id, row.state, attempt, f"a late result of run {attempt} was ignored")
        return "stale"
    if not result.get("ok"):
        reason = str(result.get("reason") or "the judge worker gave no reason")
        kind = result_failure_kind(result, reason, queue="judge")
        if result.get("transient"):
            return _retry_or_fail(row, attempt=attempt, reason=reason, kind=kind)
        _end(row, State.FAILED, attempt, reason, failure_kind=kind, **_common(result))
        return State.FAILED
    return _record_scores(row, result, attempt)


def _not_taken(row: Submission) -> str:
    queue = row.challenge.judging_rules.judge_queue
    if queue:
        return f"no worker of this challenge's queue {queue} took it in time (is one running?)"
    return "no judge worker took it in time"


def submissions_reap(*, discard: Revoker | None = None, now: datetime | None = None) -> int:
    """Take back jobs whose lease ran out: a message no worker took goes back to
    waiting (and is discarded, should a worker find it later); a run whose worker
    stopped answering is judged again (bounded)."""
    now = now or timezone.now()
    if reaping_paused(term_seconds=settings.PPIPE_JUDGE_LEASE_SECONDS, now=now):
        return 0
    reaped = 0
    for row in LIFECYCLE.expired(now).select_related("challenge"):
        with db_transaction.atomic():
            if row.state == State.QUEUED:
                if LIFECYCLE.unclaim(row.id, attempts=row.attempts):
                    _event(row.id, State.NEW, row.attempts, _not_taken(row))
                    if discard and row.task_id:
                        db_transaction.on_commit(partial(discard, row.task_id))
                    feed_after_commit()
            else:
                locked = LIFECYCLE.locked(row.id)
                if locked is None or not LIFECYCLE.is_current(locked, row.attempts):
                    continue
                who = f"the judge worker ({row.worker})" if row.worker else "the judge worker"
                _retry_or_fail(
                    locked,
                    attempt=row.attempts,
                    reason=f"{who} stopped answering",
                    kind=FailureKind.LOST,
                )
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
            failure_kind=FailureKind.CANCELLED,
            finished_at=timezone.now(),
            lease_expires_at=None,
        )
        _event(current.pk, State.CANCELLED, current.attempts, f"cancelled by {by}")
        if current.task_id and current.state in IN_FLIGHT_STATES:
            task_id = current.task_id
            db_transaction.on_commit(lambda: revoke(task_id))
        feed_after_commit()
    return True


def submission_rejudge(*, submission: Submission) -> bool:
    """Judge an ended submission again from scratch (a teacher's action)."""
    with db_transaction.atomic():
        changed = Submission.objects.filter(id=submission.pk, state__in=ENDED_STATES).update(
            state=State.NEW,
            reason="",
            failure_kind="",
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
            ConfigurationResult.objects.filter(submission_id=submission.pk).delete()
            _event(submission.pk, State.NEW, 0, "judge again (requested by the teacher)")
            feed_after_commit()
    return bool(changed)


def challenge_rejudge(*, challenge: Challenge) -> int:
    """Judge again every scored or failed submission of a challenge."""
    ended = Submission.objects.filter(
        challenge=challenge, state__in=[State.SCORED, State.FAILED]
    ).only("id")
    return sum(submission_rejudge(submission=row) for row in ended)
