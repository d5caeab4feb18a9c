"""Endpoints and probes, control side: registering, scheduling, recording.

Scheduling keeps each endpoint on its own phase: an endpoint's next probe is
its previous slot plus the challenge's interval, so probes neither drift nor
bunch up. Each tick sends the probes whose slot has come, at once: a message
carries no time for a probe host to compare with its own clock (a skewed host
would hold it or drop it), so a probe starts within a tick of its slot. A probe
is a row before it is a message, under a lease (foundation/leases.py), recorded
at most once; one that no worker answered within its lease ends as `lost`,
which counts against uptime like any failure.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import partial
from typing import Any

import httpx
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from challenges.models import Challenge, Participant
from challenges.selectors import hidden_labels
from foundation.database_outages import reaping_paused
from foundation.leases import Lifecycle
from probing.answers import challenge_labels, target_deviation, valid_predictions
from probing.jobs import drift_time, probe_job, probe_rows, with_auth
from probing.models import Endpoint, Probe, ProbeKind, ProbeState, Protocol, ScorePublication
from probing.publication import ladder, metric_scale, publication_slot
from probing.selectors import MeasuredScore, measured_scores
from worker_wing.jobs import ProbeJobMessage
from worker_wing.judge.metrics import REGRESSION, get_metric
from worker_wing.probe.protocols import probe_url

ProbeSender = Callable[[ProbeJobMessage], None]
ProbeRunner = Callable[[ProbeJobMessage], dict[str, Any]]
Revoker = Callable[[str], None]
# Probes are created claimed: planned and sent in one step, one attempt each.
LIFECYCLE = Lifecycle(
    Probe,
    waiting=ProbeState.PENDING,
    claimed=ProbeState.PENDING,
    running=None,
    failed=ProbeState.LOST,
)
OK = "ok"
# Predictions that are no answer: a value that is not a label, a non-finite number.
INVALID = "invalid"
logger = logging.getLogger(__name__)


def _validated(url: str, protocol: str, model_name: str, auth_header: str) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if protocol not in Protocol.values:
        errors["protocol"] = [
            f"Unknown protocol {protocol!r}: use one of {', '.join(Protocol.values)}."
        ]
    try:
        parsed = httpx.URL(url)
        if parsed.scheme not in ("http", "https") or not parsed.host:
            raise ValueError
    except (ValueError, httpx.InvalidURL):
        errors["url"] = [
            f"{url!r} is not a URL ppipe can probe: write http:// or https://, a host and a path."
        ]
    if protocol == Protocol.V2 and not model_name:
        errors["model_name"] = ["The v2 protocol needs the model's name: /v2/models/{name}/infer."]
    elif protocol in Protocol.values and "url" not in errors:
        probe_url(protocol, url, model_name)
    if auth_header and not _is_header(auth_header):
        errors["auth_header"] = [
            'Write the header as "Name: value", e.g. "Authorization: Bearer …".'
        ]
    return errors


def _is_header(text: str) -> bool:
    name, colon, value = text.partition(":")
    name, value = name.strip(), value.strip()
    token = name.isascii() and name.replace("-", "").replace("_", "").isalnum()
    return bool(colon and token and value and "\r" not in value and "\n" not in value)


def _first_slot(now: datetime, interval: int) -> datetime:
    # A random phase within the interval: a class registering at once spreads out.
    return now + timedelta(seconds=random.uniform(0, interval))  # noqa: S311 - jitter


@transaction.atomic
def endpoint_register(
    *,
    participant: Participant,
    url: str,
    protocol: str,
    model_name: str = "",
    auth_header: str = "",
) -> tuple[Endpoint, bool]:
    """Register the participant's endpoint, or change it; (endpoint, created)."""
    url, model_name, auth_header = url.strip(), model_name.strip(), auth_header.strip()
    errors = _validated(url, protocol, model_name, auth_header)
    if errors:
        raise ValidationError(errors)
    challenge = participant.challenge
    endpoint, created = Endpoint.objects.select_for_update().get_or_create(
        participant=participant,
        defaults={"challenge": challenge, "url": url, "protocol": protocol},
    )
    endpoint.url, endpoint.protocol, endpoint.model_name = url, protocol, model_name
    endpoint.auth_header = auth_header
    endpoint.active = True
    if created or endpoint.next_probe_at is None:
        endpoint.next_probe_at = _first_slot(
            timezone.now(), challenge.probe_rules.probe_interval_seconds
        )
    endpoint.save()
    return endpoint, created


def _drift_time(challenge: Challenge, known: dict[int, float | None]) -> float | None:
    if challenge.id not in known:
        active = challenge.drift_settings.active
        known[challenge.id] = drift_time(challenge) if active else None
    return known[challenge.id]


def _next_slot(slot: datetime, interval: timedelta, now: datetime) -> datetime:
    """The slot after `slot`, skipping the ones already past (beat was down)."""
    following = slot + interval
    if following < now:
        missed = (now - following) // interval + 1
        following += missed * interval
    return following


def probes_schedule(*, send: ProbeSender, now: datetime | None = None) -> int:
    """Plan and send the probes whose slot has come; returns how many."""
    now = now or timezone.now()
    horizon = now
    planned = 0
    times: dict[int, float | None] = {}  # per challenge, once per tick
    with transaction.atomic():
        due = (
            Endpoint.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("challenge__split", "challenge__probe_rules")
            .filter(
                active=True,
                next_probe_at__lte=horizon,
                challenge__published_at__isnull=False,
                challenge__opens_at__lte=horizon,
                challenge__closes_at__gt=now,
            )
        )
        for endpoint in due:
            challenge = endpoint.challenge
            interval = timedelta(seconds=challenge.probe_rules.probe_interval_seconds)
            slot = endpoint.next_probe_at or now
            if slot < now - interval:  # long past: probe now, then back on its phase
                slot = now
            at = _drift_time(challenge, times)
            probe = Probe.objects.create(
                endpoint=endpoint,
                scheduled_at=slot,
                lease_expires_at=probe_lease(slot, interval),
                rows=probe_rows(challenge, challenge.probe_rules.probe_rows, at),
                drift_time=at,
            )
            probe.endpoint = endpoint
            job = with_auth(probe_job(probe), endpoint)
            transaction.on_commit(partial(send, job))
            endpoint.next_probe_at = _next_slot(slot, interval, now)
            endpoint.save(update_fields=["next_probe_at"])
            planned += 1
    return planned


def _grace() -> timedelta:
    return timedelta(
        seconds=settings.PPIPE_PROBE_TIMEOUT_SECONDS + settings.PPIPE_PROBE_GRACE_SECONDS
    )


def probe_lease(slot: datetime, interval: timedelta) -> datetime:
    """Until the next slot and the probe's own time limit have passed: a probe
    still unanswered then is lost (the next one has taken its place)."""
    return slot + interval + _grace()


def probe_task_id(probe_id: int) -> str:
    """The probe's message id, known before sending, so the reaper can discard
    a message no worker took."""
    return f"probe-{probe_id}"


def probes_reap(*, discard: Revoker | None = None, now: datetime | None = None) -> int:
    """Probes no worker answered within their lease end as lost; their message,
    should a worker find it later, is discarded."""
    now = now or timezone.now()
    if reaping_paused(term_seconds=_grace().total_seconds(), now=now):
        return 0
    lost = 0
    for probe_id in LIFECYCLE.expired(now).values_list("id", flat=True):
        with transaction.atomic():
            ended = LIFECYCLE.end(
                probe_id,
                ProbeState.LOST,
                only_from=(ProbeState.PENDING,),
                outcome="lost",
                detail="no probe worker answered: is a worker serving the probe queue?",
                recorded_at=now,
            )
            if ended and discard:
                transaction.on_commit(partial(discard, probe_task_id(probe_id)))
        lost += ended
    return lost


def _score(probe: Probe, predictions: list[Any]) -> tuple[float | None, str]:
    """(score, "") for a valid answer, (None, why) for an invalid one. Validity is
    decided before the labels are read (probing/answers.py)."""
    challenge = probe.endpoint.challenge
    valid, problem = valid_predictions(
        predictions,
        rows=len(probe.rows),
        task_type=challenge.task_type,
        labels=challenge_labels(challenge),
    )
    if problem:
        return None, problem
    labels = hidden_labels(challenge.split.labels_sha256)
    truth = labels[challenge.target_column].iloc[probe.rows].to_numpy()
    try:
        return get_metric(challenge.metric).score(truth, valid), ""
    except (TypeError, ValueError):
        # Valid predictions the metric refuses (a metric that needs both classes
        # among the rows, say): the reason depends on the hidden labels, so the
        # student's probe stays a valid answer without a score, and only the logs say why.
        logger.warning("probe %s: valid predictions the metric refused", probe.id, exc_info=True)
        return None, ""


def probe_record_result(*, result: dict[str, Any]) -> str:
    """Record a probe's result, once: a duplicate or a late one changes nothing."""
    with transaction.atomic():
        probe = LIFECYCLE.locked(
            int(result.get("probe_id") or 0),
            Probe.objects.select_related(
                "endpoint__challenge__split", "endpoint__challenge__probe_rules"
            ).filter(state=ProbeState.PENDING),
        )
        if probe is None:
            return "ignored"
        outcome, detail = str(result.get("outcome") or "invalid"), str(result.get("detail") or "")
        score = None
        if outcome == OK:
            score, problem = _score(probe, list(result.get("predictions") or []))
            if problem:
                outcome, detail = INVALID, problem
        total_ms = result.get("total_ms")
        sla = probe.endpoint.challenge.probe_rules.latency_sla_ms
        probe.state, probe.lease_expires_at = ProbeState.DONE, None
        probe.outcome, probe.detail, probe.score = outcome, detail[:2000], score
        probe.http_status = result.get("http_status")
        probe.connect_ms, probe.total_ms = result.get("connect_ms"), total_ms
        probe.sla_met = outcome == OK and total_ms is not None and total_ms <= sla
        probe.data_version = str(result.get("data_version") or "")[:100]
        probe.worker = str(result.get("worker") or "")[:200]
        probe.started_at = _parse_time(result.get("started_at"))
        probe.recorded_at = timezone.now()
        probe.exchange = result.get("exchange") or {}
        probe.save()
        return outcome


def _publication(
    endpoint: Endpoint, slot: datetime, measured: MeasuredScore | None
) -> ScorePublication:
    """One endpoint's slot by the rule of probing/publication.py."""
    standing: float | None = getattr(endpoint, "standing", None)
    rows = measured.rows if measured else 0
    if measured is None or measured.score is None or rows < settings.PPIPE_PROBE_SCORE_MIN_ROWS:
        return ScorePublication(endpoint=endpoint, slot=slot, rows=rows, score=standing)
    challenge = endpoint.challenge
    deviation = target_deviation(challenge) if challenge.task_type == REGRESSION else None
    result = ladder(
        measured=measured.score,
        standing=standing,
        scale=metric_scale(challenge.metric, deviation),
        rows=rows,
        max_steps=settings.PPIPE_PROBE_SCORE_STEPS,
    )
    return ScorePublication(
        endpoint=endpoint,
        slot=slot,
        rows=rows,
        score=result.score,
        step=result.step,
        changed=result.changed,
    )


def scores_publish(*, now: datetime | None = None) -> int:
    """Publish the live score of every endpoint for the latest publication slot
    not yet done; returns how many endpoints got one. Each beat tick calls it: a
    slot is done once, over the probes recorded by then, whenever it runs."""
    now = now or timezone.now()
    slot = publication_slot(now, settings.PPIPE_PROBE_SCORE_PUBLISH_SECONDS)
    since = slot - timedelta(hours=settings.PPIPE_PROBE_WINDOW_HOURS)
    standing = ScorePublication.objects.filter(
        endpoint_id=OuterRef("pk"), changed=True, slot__lt=slot
    ).order_by("-slot")
    due = list(
        Endpoint.objects.select_related("challenge__split")
        .filter(
            challenge__published_at__isnull=False,
            challenge__opens_at__lt=slot,
            # After the close the last value stands; probes stop, the window empties.
            challenge__closes_at__gt=since,
        )
        .exclude(publications__slot=slot)
        .annotate(standing=Subquery(standing.values("score")[:1]))
    )
    if not due:
        return 0
    measured = measured_scores([endpoint.id for endpoint in due], since, slot)
    publications = [_publication(e, slot, measured.get(e.id)) for e in due]
    # A slot published twice at once (two ticks) keeps the first: the same figures.
    ScorePublication.objects.bulk_create(publications, ignore_conflicts=True)
    return len(publications)


def _parse_time(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        return None


class CheckRefused(Exception):
    """A check not made now; `seconds` until one may be (the API's Retry-After)."""

    def __init__(self, message: str, seconds: float) -> None:
        super().__init__(message)
        self.seconds = seconds


class CheckTooSoon(CheckRefused):
    """A check came within the cooldown of the previous one."""

    def __init__(self, seconds: float) -> None:
        super().__init__(
            f"This endpoint was checked moments ago: try again in {seconds:.0f} s.", seconds
        )


class CheckQuotaUsed(CheckRefused):
    """The student has used their checks of the last 24 hours."""

    def __init__(self, limit: int, next_at: datetime, now: datetime) -> None:
        super().__init__(
            f"You have used your {limit} checks of the last 24 hours; the next one is "
            f"possible at {next_at:%Y-%m-%d %H:%M %Z}. Scheduled probes go on meanwhile.",
            max((next_at - now).total_seconds(), 1.0),
        )


def _check_quota(endpoint: Endpoint, now: datetime) -> None:
    """At most PPIPE_PROBE_CHECKS_PER_DAY checks in 24 hours per student, all
    their endpoints together (counted like submissions per day): each check
    sends hidden test rows. The caller holds the student's endpoints locked."""
    limit = settings.PPIPE_PROBE_CHECKS_PER_DAY
    counted = list(
        Probe.objects.filter(
            endpoint__participant__user_id=endpoint.participant.user_id,
            kind=ProbeKind.CHECK,
            scheduled_at__gt=now - timedelta(days=1),
        )
        .order_by("scheduled_at")
        .values_list("scheduled_at", flat=True)
    )
    if len(counted) >= limit:
        next_at = (counted[len(counted) - limit] if limit else now) + timedelta(days=1)
        raise CheckQuotaUsed(limit, next_at, now)


def endpoint_check(*, endpoint: Endpoint, run: ProbeRunner) -> Probe:
    """Probe once now (not counted in the metrics) and keep the raw exchange. The
    answer says whether the predictions are valid, never whether they are right."""
    challenge = endpoint.challenge
    cooldown = timedelta(seconds=settings.PPIPE_PROBE_CHECK_SECONDS)
    with transaction.atomic():
        # The student's endpoints, locked in one order: two checks at once (two
        # tabs, two challenges) count one after the other.
        list(
            Endpoint.objects.select_for_update()
            .filter(participant__user_id=endpoint.participant.user_id)
            .order_by("id")
            .values_list("id", flat=True)
        )
        last = (
            Probe.objects.filter(endpoint=endpoint, kind=ProbeKind.CHECK)
            .order_by("-scheduled_at")
            .values_list("scheduled_at", flat=True)
            .first()
        )
        now = timezone.now()
        if last is not None and now - last < cooldown:
            raise CheckTooSoon((last + cooldown - now).total_seconds())
        _check_quota(endpoint, now)
        at = _drift_time(challenge, {})
        probe = Probe.objects.create(
            endpoint=endpoint,
            kind=ProbeKind.CHECK,
            scheduled_at=now,
            lease_expires_at=now + _grace(),
            rows=probe_rows(challenge, challenge.probe_rules.probe_rows, at),
            drift_time=at,
        )
    result = run(with_auth(probe_job(probe, keep_exchange=True), endpoint))
    probe_record_result(result=result)
    probe.refresh_from_db()
    return probe
