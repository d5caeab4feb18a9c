"""What an operator watches, read across the apps: queue lengths in the broker,
jobs by state, stuck jobs and recent failures by queue. The admin's operations
page and the Prometheus metrics both read here."""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count
from django.urls import reverse
from django.utils import timezone

from dispatch.models import ACTIVE_STATES as RELEASE_ACTIVE
from dispatch.models import Transaction, TransactionState
from foundation.celery import app
from foundation.failure_kinds import LABELS
from judging.models import Submission, SubmissionState
from probing.models import Probe, ProbeState
from worker_wing.jobs import FailureKind, failure_cause

QUEUES = ("control", "dispatch", "judge", "probe")
FAILURE_WINDOW = timedelta(hours=24)


def queue_lengths() -> dict[str, int | None]:
    """Messages waiting in each broker queue (a Redis list per queue); None when
    the broker does not answer."""
    try:
        with app.connection_for_read() as connection:
            client = connection.default_channel.client  # type: ignore[attr-defined]  # Redis
            return {queue: int(client.llen(queue)) for queue in QUEUES}
    except Exception:
        return dict.fromkeys(QUEUES)


def jobs_by_state() -> dict[str, dict[str, int]]:
    """Counts of submissions (judge), release transactions (dispatch) and probes by state."""

    def counts(model: type[Submission | Transaction | Probe]) -> dict[str, int]:
        rows = model.objects.order_by().values_list("state").annotate(n=Count("id"))
        return {state: n for state, n in rows}

    return {"judge": counts(Submission), "dispatch": counts(Transaction), "probe": counts(Probe)}


ENDED_BADLY = {
    "judge": (SubmissionState.FAILED, SubmissionState.CANCELLED),
    "dispatch": (TransactionState.FAILED, TransactionState.CANCELLED),
}


def failures_by_kind(
    *, since: datetime | None = None, challenge_ids: Collection[int] | None = None
) -> dict[tuple[str, str], int]:
    """Failed and cancelled jobs by queue and kind (worker_wing.jobs.FailureKind):
    all so far (monotonic: for counters), or those ended `since`; of the challenges
    `challenge_ids` only, when given. Never by reason: a reason may quote a
    student's exception, and every distinct one would be a new label.

    A probe that failed is the student's endpoint's doing (down, slow, wrong), a
    lost one the platform's."""
    counted: Counter[tuple[str, str]] = Counter()
    submissions = Submission.objects.filter(state__in=ENDED_BADLY["judge"])
    transactions = Transaction.objects.filter(state__in=ENDED_BADLY["dispatch"])
    probes = Probe.objects.filter(state__in=(ProbeState.DONE, ProbeState.LOST)).exclude(
        outcome="ok"
    )
    if since is not None:
        submissions = submissions.filter(finished_at__gte=since)
        transactions = transactions.filter(finished_at__gte=since)
        probes = probes.filter(scheduled_at__gte=since)
    if challenge_ids is not None:
        submissions = submissions.filter(challenge_id__in=challenge_ids)
        transactions = transactions.filter(release__challenge_id__in=challenge_ids)
        probes = probes.filter(endpoint__challenge_id__in=challenge_ids)
    for queue, rows in (("judge", submissions), ("dispatch", transactions)):
        for kind, n in rows.order_by().values_list("failure_kind").annotate(n=Count("id")):
            # A row from before kinds, missed by the migration: someone should look.
            counted[queue, kind or FailureKind.INFRASTRUCTURE] += n
    for state, n in probes.order_by().values_list("state").annotate(n=Count("id")):
        lost = state == ProbeState.LOST
        counted["probe", FailureKind.LOST if lost else FailureKind.STUDENT_ERROR] += n
    return dict(counted)


@dataclass(frozen=True)
class KindCount:
    kind: str
    label: str
    cause: str
    by_queue: dict[str, int]
    total: int


def failure_table(
    *, since: datetime, challenge_ids: Collection[int] | None = None
) -> dict[str, list[KindCount]]:
    """The failures ended `since`, one row per kind that occurred, split by cause:
    the students' (their code, their limits) apart from the operators' (the rest)."""
    counted = failures_by_kind(since=since, challenge_ids=challenge_ids)
    table: dict[str, list[KindCount]] = {"operations": [], "student": []}
    for kind in FailureKind:
        by_queue = {queue: counted.get((queue, kind), 0) for queue in QUEUES[1:]}
        if any(by_queue.values()):
            row = KindCount(
                kind, LABELS[kind], failure_cause(kind), by_queue, sum(by_queue.values())
            )
            table[row.cause].append(row)
    return table


@dataclass(frozen=True)
class ProblemJob:
    queue: str
    kind: str  # "stuck" or "failed"
    object_id: int
    label: str
    state: str
    since: datetime | None
    reason: str
    admin_url: str
    # The failure's kind (worker_wing.jobs.FailureKind); empty for a stuck job.
    failure_kind: str = ""


def _stuck_after(now: datetime) -> dict[str, datetime]:
    return {
        "judge": now - timedelta(seconds=settings.PPIPE_JUDGE_QUEUE_SECONDS),
        "probe": now
        - timedelta(
            seconds=settings.PPIPE_PROBE_TIMEOUT_SECONDS + settings.PPIPE_PROBE_GRACE_SECONDS
        ),
    }


def problem_jobs(
    limit: int = 50, now: datetime | None = None, *, challenge_ids: Collection[int] | None = None
) -> dict[str, list[ProblemJob]]:
    """Per queue: jobs past their lease or waiting longer than they should
    (stuck), then failures of the last 24 hours, newest first; of the challenges
    `challenge_ids` only, when given (a teacher's digest)."""
    now = now or timezone.now()
    late = _stuck_after(now)
    since = now - FAILURE_WINDOW
    found: dict[str, list[ProblemJob]] = {queue: [] for queue in QUEUES[1:]}

    submissions = Submission.objects.select_related("challenge", "participant__user")
    if challenge_ids is not None:
        submissions = submissions.filter(challenge_id__in=challenge_ids)
    stuck_submissions = submissions.filter(
        state__in=(SubmissionState.QUEUED, SubmissionState.RUNNING), lease_expires_at__lt=now
    ) | submissions.filter(state=SubmissionState.QUEUED, queued_at__lt=late["judge"])
    for row in stuck_submissions.order_by("queued_at")[:limit]:
        found["judge"].append(_submission(row, "stuck", row.lease_expires_at or row.queued_at))
    for row in submissions.filter(state=SubmissionState.FAILED, finished_at__gte=since).order_by(
        "-finished_at"
    )[:limit]:
        found["judge"].append(_submission(row, "failed", row.finished_at))

    transactions = Transaction.objects.select_related("release__challenge", "destination")
    if challenge_ids is not None:
        transactions = transactions.filter(release__challenge_id__in=challenge_ids)
    for tx in transactions.filter(state__in=RELEASE_ACTIVE, lease_expires_at__lt=now).order_by(
        "lease_expires_at"
    )[:limit]:
        found["dispatch"].append(_transaction(tx, "stuck", tx.lease_expires_at))
    for tx in transactions.filter(state=TransactionState.FAILED, finished_at__gte=since).order_by(
        "-finished_at"
    )[:limit]:
        found["dispatch"].append(_transaction(tx, "failed", tx.finished_at))

    probes = Probe.objects.select_related("endpoint__participant__user")
    if challenge_ids is not None:
        probes = probes.filter(endpoint__challenge_id__in=challenge_ids)
    for probe in probes.filter(state=ProbeState.PENDING, scheduled_at__lt=late["probe"]).order_by(
        "scheduled_at"
    )[:limit]:
        found["probe"].append(_probe(probe, "stuck"))
    for probe in probes.filter(state=ProbeState.LOST, scheduled_at__gte=since).order_by(
        "-scheduled_at"
    )[:limit]:
        found["probe"].append(_probe(probe, "failed"))
    return found


def _submission(row: Submission, kind: str, since: datetime | None) -> ProblemJob:
    return ProblemJob(
        "judge",
        kind,
        row.pk,
        f"submission #{row.pk} of {row.participant.user} ({row.challenge.slug})",
        row.state,
        since,
        row.reason,
        reverse("admin:judging_submission_change", args=[row.pk]),
        row.failure_kind if kind == "failed" else "",
    )


def _transaction(tx: Transaction, kind: str, since: datetime | None) -> ProblemJob:
    return ProblemJob(
        "dispatch",
        kind,
        tx.pk,
        f"release {tx.release.sequence} of {tx.release.challenge.slug} to {tx.destination.name}",
        tx.state,
        since,
        tx.error,
        reverse("admin:dispatch_transaction_change", args=[tx.pk]),
        tx.failure_kind if kind == "failed" else "",
    )


def _probe(probe: Probe, kind: str) -> ProblemJob:
    return ProblemJob(
        "probe",
        kind,
        probe.pk,
        f"probe #{probe.pk} of {probe.endpoint.participant.user}'s endpoint",
        probe.state,
        probe.scheduled_at,
        probe.detail or "no probe worker answered yet",
        reverse("admin:probing_probe_change", args=[probe.pk]),
        FailureKind.LOST if kind == "failed" else "",
    )
