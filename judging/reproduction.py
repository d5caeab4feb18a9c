"""Reproducing a finished run: its recorded judge job run again, preferably on
another judge worker, and whether the scores match the original's.

The submission itself is never touched beyond two notes on its timeline (the
request and the outcome): its state, scores and folds stay as judged. The copy
of the job is marked `purpose: reproduce` and goes to a task of its own, whose
result is recorded here, once (a conditional update on the reproduction's
state), and scored on the control side against the hidden labels exactly as
the original was. Only what the submission's author may already see is
compared: the fold scores, the cross-validation mean and the public score.

A reproduction that no worker finishes within its lease (the job's wall limit
plus a margin, and the time a queued job may wait) is failed by the reaper.
"""

from __future__ import annotations

import logging
import math
import secrets
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import transaction as db_transaction
from django.utils import timezone

from foundation.database_outages import reaping_paused
from foundation.leases import Lifecycle
from judging import signals
from judging.models import (
    Reproduction,
    ReproductionState,
    Submission,
    SubmissionEvent,
    SubmissionState,
)
from judging.scoring import ScoringError
from judging.selectors import challenge_test_scores, submissions_of, submissions_taught_by
from teams.services import participant_lock

logger = logging.getLogger(__name__)
State = ReproductionState

REPRODUCE = "reproduce"
# Created queued (the request is the claim: sent at once, with a queue lease),
# then one run, never retried.
LIFECYCLE = Lifecycle(
    Reproduction,
    waiting=State.QUEUED,
    claimed=State.QUEUED,
    running=State.RUNNING,
    failed=State.FAILED,
    counts_at="start",
)
WAITING = LIFECYCLE.in_flight

# Set by judging.tasks: the node names of the live workers of a judge queue that
# can be sent a job directly; and a sender of one job to a node (None: the job's
# judge queue).
LiveJudges = Callable[[str], list[str]]
ReproductionSender = Callable[[dict[str, Any], str | None], str]
Revoker = Callable[[str], None]


class ReproductionRefused(ValueError):
    """The submission cannot be reproduced; the message says why."""

    def __init__(self, message: str, *, field: str = "submission") -> None:
        super().__init__(message)
        self.field = field


class ReproductionQuotaExceeded(ReproductionRefused):
    """The author asked for as many reproductions in 24 hours as the challenge
    allows submissions; `next_at` is when the next one is possible."""

    def __init__(self, message: str, *, next_at: datetime) -> None:
        super().__init__(message)
        self.next_at = next_at


def worker_node(worker: str) -> str:
    """The Celery node of a worker as results name it (`judge@lab-07 pid 12`):
    another process of the same node is the same worker."""
    return worker.split(" pid ", 1)[0].strip()


def job_queue(job: dict[str, Any]) -> str:
    """The queue whose workers may run a judge job (older jobs name none: the shared one)."""
    return str(job.get("queue") or "judge")


def _note(submission: Submission, message: str) -> None:
    SubmissionEvent.objects.create(
        submission_id=submission.pk,
        state=submission.state,
        attempt=submission.attempts,
        message=message.strip(),
    )


def _wall_seconds(job: dict[str, Any]) -> int:
    return int((job.get("limits") or {}).get("wall_seconds") or 0)


def _run_lease(job: dict[str, Any], now: datetime) -> datetime:
    return now + timedelta(seconds=_wall_seconds(job) + settings.PPIPE_REPRODUCE_MARGIN_SECONDS)


def _refusal(submission: Submission) -> str | None:
    if submission.state == SubmissionState.SCORED and submission.job:
        return None
    if submission.state == SubmissionState.SCORED:
        return (
            f"Submission {submission.pk} has no recorded judge job to run again; "
            "judge it again first."
        )
    if submission.state == SubmissionState.FAILED:
        return (
            f"Submission {submission.pk} failed: there are no scores to reproduce. "
            "Only a scored submission can be reproduced."
        )
    return (
        f"Submission {submission.pk} is {submission.state}, not scored: only a scored "
        "submission can be reproduced."
    )


def _check_quota(current: Submission, requested_by: str, now: datetime) -> None:
    """Counted like submissions (judging.services._check_daily_limit): a run
    judged again costs a judge worker what a submission does, so its author may
    ask for at most the challenge's submissions_per_day in any 24 hours. Every
    request counts, whatever became of it: a run that fails on purpose is no
    cheaper for the worker."""
    limit = current.challenge.judging_rules.submissions_per_day
    counted = list(
        Reproduction.objects.filter(
            submission__participant_id=current.participant_id,
            requested_by=requested_by[:150],
            requested_at__gte=now - timedelta(days=1),
        )
        .order_by("requested_at")
        .values_list("requested_at", flat=True)
    )
    if len(counted) >= limit:
        next_at = counted[len(counted) - limit] + timedelta(days=1)
        raise ReproductionQuotaExceeded(
            f"You have asked for {limit} reproductions in the last 24 hours, as many as "
            f"the challenge's daily submissions; the next one is possible at "
            f"{timezone.localtime(next_at):%Y-%m-%d %H:%M %Z}.",
            next_at=next_at,
        )


def reproduction_request(
    *, submission: Submission, requested_by: str, counted: bool = False
) -> Reproduction:
    """Run a scored submission's judge job again, preferably on another judge worker;
    raise ReproductionRefused when the submission has no scored run to reproduce.
    `counted`: asked by its author, within the daily quota (a teacher's are not)."""
    with db_transaction.atomic():
        if counted:
            # One request at a time per student, taken in the order submissions take
            # it (participant, then submission), so two at once cannot both pass.
            participant_lock(submission.participant_id)
        current = (
            Submission.objects.select_for_update(of=("self",))
            .select_related("challenge")
            .get(pk=submission.pk)
        )
        refusal = _refusal(current)
        if refusal:
            raise ReproductionRefused(refusal)
        now = timezone.now()
        if counted:
            _check_quota(current, requested_by, now)
        # Waiting for a worker, then running: the reaper's deadline if none reports.
        waiting = timedelta(seconds=settings.PPIPE_JUDGE_QUEUE_SECONDS)
        reproduction = Reproduction.objects.create(
            submission=current,
            requested_by=requested_by[:150],
            tolerance=current.challenge.judging_rules.reproduce_tolerance,
            original_worker=current.worker,
            lease_expires_at=_run_lease(current.job, now) + waiting,
        )
        _note(current, f"reproduction {reproduction.pk} requested by {requested_by}")
        db_transaction.on_commit(
            partial(
                signals.reproduction_requested.send,
                sender=Reproduction,
                reproduction_id=reproduction.pk,
            )
        )
    return reproduction


def _choose(candidates: Sequence[str]) -> str:
    return secrets.choice(list(candidates))


def reproduction_send(
    *,
    reproduction_id: int,
    live_judges: LiveJudges,
    send: ReproductionSender,
    choose: Callable[[Sequence[str]], str] = _choose,
) -> str:
    """Send a queued reproduction's job to a live judge worker other than the
    original's, or, with none, to the job's judge queue (saying so in `reason`).
    Returns the node it was sent to, the queue's name with none, or "" if the
    reproduction is no longer waiting to be sent."""
    row = (
        Reproduction.objects.select_related("submission")
        .filter(id=reproduction_id, state=State.QUEUED, task_id="")
        .first()
    )
    if row is None:
        return ""
    job = {**row.submission.job, "purpose": REPRODUCE, "reproduction_id": row.pk}
    # A challenge with judge workers of its own reproduces on one of them.
    queue = job_queue(job)
    original = worker_node(row.original_worker)
    others = sorted({node for node in live_judges(queue) if node != original})
    target = choose(others) if others else None
    if target is None:
        note = (
            f"No judge worker other than the original ({original or 'unknown'}) was alive: "
            f"sent to the {queue} queue, where any of its workers, the original too, "
            "may take it."
        )
        Reproduction.objects.filter(id=row.pk, state=State.QUEUED).update(reason=note)
    task_id = send(job, target)
    # Unconditional: the worker may already have reported it started.
    Reproduction.objects.filter(id=row.pk).update(task_id=task_id[:100])
    return target or queue


def reproduction_mark_started(*, reproduction_id: int, worker: str) -> bool:
    row = Reproduction.objects.select_related("submission").filter(id=reproduction_id).first()
    if row is None:
        return False
    return LIFECYCLE.start(
        row.pk,
        attempt=1,
        lease=_run_lease(row.submission.job, timezone.now()),
        worker=worker[:200],
    )


def _compared(
    submission: Submission, result: dict[str, Any], public: float
) -> dict[str, dict[str, float | None]]:
    """Each score the author can see, as originally judged and as reproduced."""
    original_folds = {fold.index: fold.score for fold in submission.folds.all()}
    reproduced_folds = {
        int(fold["index"]): float(fold["score"]) for fold in result.get("folds") or []
    }
    scores: dict[str, dict[str, float | None]] = {
        f"fold_{index}": {
            "original": original_folds.get(index),
            "reproduced": reproduced_folds.get(index),
        }
        for index in sorted({*original_folds, *reproduced_folds})
    }
    cv_mean = result.get("cv_mean")
    scores["cv_mean"] = {
        "original": submission.cv_mean,
        "reproduced": None if cv_mean is None else float(cv_mean),
    }
    scores["public_score"] = {"original": submission.public_score, "reproduced": public}
    return scores


def _outcome(
    scores: dict[str, dict[str, float | None]], tolerance: float
) -> tuple[str, float | None, str]:
    """matched or differed, the largest difference, and what did not compare."""
    differences, unmatched = [], []
    for name, pair in scores.items():
        original, reproduced = pair["original"], pair["reproduced"]
        if original is None or reproduced is None:
            side = "original" if original is None else "reproduced run"
            unmatched.append(f"{name} is missing from the {side}")
            continue
        difference = abs(original - reproduced)
        if math.isnan(difference):
            unmatched.append(f"{name} is not a number")
            continue
        differences.append(difference)
    largest = max(differences) if differences else None
    matched = not unmatched and largest is not None and largest <= tolerance
    return (State.MATCHED if matched else State.DIFFERED), largest, "; ".join(unmatched)


def _where(worker: str, original: str) -> str:
    node, original_node = worker_node(worker), worker_node(original)
    if not node:
        return ""
    if node == original_node:
        return f"on {node}, the original's worker"
    return f"on {node}, not the original's worker ({original_node or 'unknown'})"


def _finish(
    row: Reproduction,
    submission: Submission,
    state: str,
    message: str,
    *,
    reason: str = "",
    only_if: dict[str, Any] | None = None,
    **fields: Any,
) -> str:
    conditions = only_if or {"state__in": WAITING}
    changed = Reproduction.objects.filter(id=row.pk, **conditions).update(
        state=state,
        reason=" ".join(part for part in (row.reason, reason) if part),
        finished_at=timezone.now(),
        lease_expires_at=None,
        **fields,
    )
    if not changed:
        return "stale"
    _note(submission, message)
    return state


@db_transaction.atomic
def reproduction_record_result(*, result: dict[str, Any]) -> str:
    """Record a reproduced run's result, once: compare its scores with the original's
    (matched within the tolerance, or differed), or fail with the run's reason."""
    row = LIFECYCLE.locked(int(result["reproduction_id"]))
    if row is None:
        return "unknown"
    if row.state not in WAITING:
        return "stale"
    submission = Submission.objects.select_related("challenge__split").get(pk=row.submission_id)
    worker = str(result.get("worker") or row.worker)[:200]
    where = _where(worker, row.original_worker)
    ran: dict[str, Any] = {"worker": worker, "provenance": result.get("provenance") or {}}
    label = f"reproduction {row.pk}"
    if not result.get("ok"):
        why = str(result.get("reason") or "no reason given").rstrip(".")
        reason = f"The reproduced run failed: {why}."
        return _finish(
            row, submission, State.FAILED, f"{label} failed {where}", reason=reason, **ran
        )
    if submission.state != SubmissionState.SCORED:
        reason = f"Submission {submission.pk} is {submission.state} now: nothing to compare with."
        return _finish(row, submission, State.FAILED, f"{label} failed", reason=reason, **ran)
    challenge = submission.challenge
    try:
        public = challenge_test_scores(challenge, list(result.get("test_predictions") or [])).public
    except ScoringError as error:
        reason = f"The reproduced run's test predictions could not be scored: {error}."
        return _finish(
            row, submission, State.FAILED, f"{label} failed {where}", reason=reason, **ran
        )
    scores = _compared(submission, result, public)
    state, largest, unmatched = _outcome(scores, row.tolerance)
    summary = (
        f"{label} {state} {where}: largest difference {largest:.3g} (tolerance {row.tolerance:.3g})"
        if largest is not None
        else f"{label} {state} {where}"
    )
    return _finish(
        row,
        submission,
        state,
        summary,
        reason=unmatched,
        scores=scores,
        max_difference=largest,
        **ran,
    )


def reproductions_reap(*, discard: Revoker | None = None, now: datetime | None = None) -> int:
    """Fail reproductions whose lease ran out: no judge worker took the job in time,
    or the one that took it never reported a result."""
    now = now or timezone.now()
    if reaping_paused(term_seconds=settings.PPIPE_JUDGE_LEASE_SECONDS, now=now):
        return 0
    reaped = 0
    margin = settings.PPIPE_REPRODUCE_MARGIN_SECONDS
    for row in LIFECYCLE.expired(now).select_related("submission"):
        if row.state == State.QUEUED:
            reason = "No judge worker took the job before its lease ran out."
        else:
            reason = (
                f"The judge worker ({worker_node(row.worker) or 'unknown'}) reported no result "
                f"within the job's wall limit plus {margin} s."
            )
        message = f"reproduction {row.pk} failed: {reason}"
        # Only as seen: a run that started meanwhile has a new lease.
        only_if = {"state": row.state, "lease_expires_at__lt": now}
        with db_transaction.atomic():
            ended = _finish(
                row, row.submission, State.FAILED, message, reason=reason, only_if=only_if
            )
            if ended == "stale":
                continue
            if discard and row.task_id:
                db_transaction.on_commit(partial(discard, row.task_id))
        reaped += 1
    return reaped


def reproduction_readable_by(
    user: AbstractBaseUser | AnonymousUser, reproduction_id: int
) -> Reproduction | None:
    """A reproduction of a submission its author or its challenge's teacher may
    read; None for anyone else (who must not learn it exists)."""
    visible = submissions_of(user) | submissions_taught_by(user)
    return (
        Reproduction.objects.filter(submission__in=visible.values("pk"), pk=reproduction_id)
        .select_related("submission")
        .first()
    )
