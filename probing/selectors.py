"""Endpoint metrics over a window of recent probes, for pages, the API and the
leaderboard.

Over the scheduled probes of the window (checks never count):
- uptime: the share of probes the endpoint answered with a 2xx status;
- error rate: the share that did not end with valid predictions (any failure,
  including probes no worker answered);
- latency p50/p95/p99: over probes that got an HTTP answer;
- score: the live score as last published (probing/publication.py): at fixed
  times, over many rows, rounded, changed only by a whole step; never the
  window's exact mean, which two reads around one probe would turn into that
  probe's score (teachers read the exact figure in the admin,
  `endpoint_measured_score`);
- SLA compliance: the share with valid predictions within the latency SLA;
- freshness: the release the newest successful probe reported having been
  trained on, against the latest release delivered: how many releases behind,
  and for how long the next one has been available.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import connection
from django.db.models import (
    Aggregate,
    Count,
    F,
    FloatField,
    Func,
    IntegerField,
    Max,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
)
from django.utils import timezone

from challenges.models import Challenge
from challenges.selectors import owned_by
from dispatch.models import Release, TransactionState
from probing.models import Endpoint, Probe, ProbeKind, ProbeState, ScorePublication
from probing.publication import next_publication

OK = "ok"
PERCENTILES = (0.5, 0.95, 0.99)
# A probe that got an HTTP answer has a latency.
ANSWERED = Q(http_status__isnull=False, total_ms__isnull=False)


@dataclass(frozen=True)
class Freshness:
    data_version: str
    latest_release: int | None
    releases_behind: int | None
    hours_behind: float | None


@dataclass(frozen=True)
class EndpointMetrics:
    probes: int
    uptime: float | None
    error_rate: float | None
    latency_p50_ms: float | None
    latency_p95_ms: float | None
    latency_p99_ms: float | None
    # The published live score (None: not yet published), when it was published,
    # its rounding step (in the metric's units), the rows it is over, and when the
    # next publication is.
    score: float | None
    sla_compliance: float | None
    freshness: Freshness
    score_published_at: datetime | None = None
    score_step: float | None = None
    score_rows: int | None = None
    score_next_publication_at: datetime | None = None


@dataclass(frozen=True)
class MeasuredScore:
    """Rows of valid answers in a window, and the rows-weighted mean of their
    probes' scores (None when none was scored)."""

    rows: int
    score: float | None


class Percentile(Aggregate):
    """PostgreSQL's continuous percentile, an ordered-set aggregate."""

    function = "percentile_cont"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression: str, fraction: float, **extra: Any) -> None:
        super().__init__(expression, fraction=float(fraction), **extra)


class JsonArrayLength(Func):
    """How many rows a probe sent (its `rows` list), in SQL."""

    function = "jsonb_array_length"
    output_field = IntegerField()

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> Any:
        return self.as_sql(compiler, connection, function="json_array_length", **extra)


def _window_probes(endpoints: list[int], since: datetime) -> QuerySet[Probe]:
    return Probe.objects.filter(
        endpoint_id__in=endpoints,
        kind=ProbeKind.SCHEDULED,
        state__in=(ProbeState.DONE, ProbeState.LOST),
        scheduled_at__gte=since,
    ).order_by("scheduled_at")


def delivered_releases(challenge: Challenge) -> dict[int, datetime]:
    """Each release delivered at least once: its sequence and when it first was."""
    rows = (
        Release.objects.filter(challenge=challenge, transactions__state=TransactionState.DONE)
        .values("sequence")
        .annotate(first=Min("transactions__finished_at"))
        .values_list("sequence", "first")
    )
    return {sequence: first for sequence, first in rows if first is not None}


def freshness(data_version: str, delivered: dict[int, datetime], now: datetime) -> Freshness:
    latest = max(delivered) if delivered else None
    try:
        trained_on = int(data_version)
    except ValueError:
        return Freshness(data_version, latest, None, None)
    if latest is None or trained_on >= latest:
        return Freshness(data_version, latest, 0 if latest is not None else None, 0.0)
    newer = [at for sequence, at in delivered.items() if sequence > trained_on]
    hours = (now - min(newer)).total_seconds() / 3600 if newer else None
    return Freshness(data_version, latest, latest - trained_on, hours)


def _share(count: int, total: int) -> float | None:
    return count / total if total else None


def _aggregates(endpoints: list[int], since: datetime, sla_ms: int) -> dict[int, dict[str, Any]]:
    """One row of counts, percentiles and means per endpoint, computed in SQL
    (latency percentiles in Python where the database lacks them)."""
    ok = Q(outcome=OK)
    percentiles_in_sql = connection.vendor == "postgresql"
    latency = {
        f"p{round(fraction * 100)}": Percentile("total_ms", fraction, filter=ANSWERED)
        for fraction in PERCENTILES
    }
    rows = (
        _window_probes(endpoints, since)
        .order_by()
        .values("endpoint_id")
        .annotate(
            probes=Count("id"),
            up=Count("id", filter=Q(http_status__gte=200, http_status__lt=300)),
            succeeded=Count("id", filter=ok),
            within_sla=Count("id", filter=ok & Q(total_ms__lte=sla_ms)),
            **(latency if percentiles_in_sql else {}),
        )
    )
    found = {row["endpoint_id"]: row for row in rows}
    if not percentiles_in_sql:
        _add_percentiles(found, endpoints, since)
    return found


def _add_percentiles(
    rows: dict[int, dict[str, Any]], endpoints: list[int], since: datetime
) -> None:
    """Where the database has no percentile_cont (SQLite, the embedded default):
    the same linear interpolation over the answered probes' latencies, in Python."""
    latencies: dict[int, list[float]] = {}
    answered = _window_probes(endpoints, since).filter(ANSWERED).order_by()
    for endpoint_id, total_ms in answered.values_list("endpoint_id", "total_ms"):
        latencies.setdefault(endpoint_id, []).append(float(total_ms or 0.0))
    for endpoint_id, row in rows.items():
        values = latencies.get(endpoint_id)
        for fraction in PERCENTILES:
            key = f"p{round(fraction * 100)}"
            row[key] = float(np.quantile(values, fraction)) if values else None


@dataclass(frozen=True)
class _Published:
    score: float | None = None
    at: datetime | None = None
    step: float | None = None
    rows: int | None = None


def _versions_and_scores(
    endpoints: list[int], since: datetime, now: datetime
) -> tuple[dict[int, str], dict[int, _Published]]:
    """The data version of each endpoint's newest successful probe, and its
    standing published score: one query."""
    newest = (
        _window_probes(endpoints, since)
        .filter(endpoint_id=OuterRef("pk"), outcome=OK)
        .order_by("-scheduled_at")
        .values("data_version")[:1]
    )
    standing = ScorePublication.objects.filter(
        endpoint_id=OuterRef("pk"), changed=True, slot__lte=now
    ).order_by("-slot")
    rows = (
        Endpoint.objects.filter(id__in=endpoints)
        .annotate(
            version=Subquery(newest),
            published=Subquery(standing.values("score")[:1]),
            published_at=Subquery(standing.values("slot")[:1]),
            published_step=Subquery(standing.values("step")[:1]),
            published_rows=Subquery(standing.values("rows")[:1]),
        )
        .values_list(
            "id", "version", "published", "published_at", "published_step", "published_rows"
        )
    )
    versions, published = {}, {}
    for endpoint_id, version, score, at, step, counted in rows:
        if version is not None:
            versions[endpoint_id] = version
        published[endpoint_id] = _Published(score, at, step, counted)
    return versions, published


def _metrics(
    row: dict[str, Any] | None, fresh: Freshness, published: _Published, next_at: datetime
) -> EndpointMetrics:
    row = row or {"probes": 0, "up": 0, "succeeded": 0, "within_sla": 0}
    total = row["probes"]
    return EndpointMetrics(
        probes=total,
        uptime=_share(row["up"], total),
        error_rate=_share(total - row["succeeded"], total),
        latency_p50_ms=row.get("p50"),
        latency_p95_ms=row.get("p95"),
        latency_p99_ms=row.get("p99"),
        score=published.score,
        sla_compliance=_share(row["within_sla"], total),
        freshness=fresh,
        score_published_at=published.at,
        score_step=published.step,
        score_rows=published.rows,
        score_next_publication_at=next_at,
    )


def window_start(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - timedelta(hours=settings.PPIPE_PROBE_WINDOW_HOURS)


def _challenge_metrics(
    challenge: Challenge, endpoints: list[int], now: datetime
) -> dict[int, EndpointMetrics]:
    since = window_start(now)
    delivered = delivered_releases(challenge)
    rows = _aggregates(endpoints, since, challenge.probe_rules.latency_sla_ms)
    versions, published = _versions_and_scores(endpoints, since, now)
    next_at = next_publication(now, settings.PPIPE_PROBE_SCORE_PUBLISH_SECONDS)
    return {
        endpoint_id: _metrics(
            rows.get(endpoint_id),
            freshness(versions.get(endpoint_id, ""), delivered, now),
            published.get(endpoint_id, _Published()),
            next_at,
        )
        for endpoint_id in endpoints
    }


def endpoint_metrics(endpoint: Endpoint, now: datetime | None = None) -> EndpointMetrics:
    return _challenge_metrics(endpoint.challenge, [endpoint.id], now or timezone.now())[endpoint.id]


def challenge_endpoint_metrics(
    challenge: Challenge, now: datetime | None = None
) -> dict[int, EndpointMetrics]:
    """Metrics of every endpoint of the challenge, by participant id: four queries
    whatever the number of probes and publications (one when there is no endpoint)."""
    endpoints = dict(
        Endpoint.objects.filter(challenge=challenge).values_list("id", "participant_id")
    )
    if not endpoints:
        return {}
    metrics = _challenge_metrics(challenge, list(endpoints), now or timezone.now())
    return {endpoints[endpoint_id]: value for endpoint_id, value in metrics.items()}


def measured_scores(
    endpoints: list[int], since: datetime, until: datetime
) -> dict[int, MeasuredScore]:
    """The exact figure over the scheduled probes of [since, until) with valid
    answers: for publishing and for the teacher's admin, never for a student."""
    scored = Q(score__isnull=False)
    rows = (
        Probe.objects.filter(
            endpoint_id__in=endpoints,
            kind=ProbeKind.SCHEDULED,
            state=ProbeState.DONE,
            outcome=OK,
            scheduled_at__gte=since,
            scheduled_at__lt=until,
        )
        .order_by()
        .values("endpoint_id")
        # Named apart from the `rows` field, which the lengths are read from.
        .annotate(
            sent=Sum(JsonArrayLength("rows")),
            scored_rows=Sum(JsonArrayLength("rows"), filter=scored),
            weighted=Sum(
                F("score") * JsonArrayLength("rows"), filter=scored, output_field=FloatField()
            ),
        )
    )
    return {
        row["endpoint_id"]: MeasuredScore(
            rows=int(row["sent"] or 0),
            score=row["weighted"] / row["scored_rows"] if row["scored_rows"] else None,
        )
        for row in rows
    }


def endpoint_measured_score(endpoint: Endpoint, now: datetime | None = None) -> MeasuredScore:
    """The exact live figure now, for the challenge's teacher in the admin."""
    now = now or timezone.now()
    found = measured_scores([endpoint.id], window_start(now), now + timedelta(seconds=1))
    return found.get(endpoint.id, MeasuredScore(0, None))


def endpoint_history(endpoint: Endpoint, now: datetime | None = None) -> list[Probe]:
    """The window's scheduled probes, oldest first, for the endpoint's charts."""
    return list(_window_probes([endpoint.id], window_start(now)))


def endpoint_history_mark(endpoint: Endpoint, now: datetime | None = None) -> tuple[int, int]:
    """How many probes the window holds and the newest one's id: changes whenever the
    endpoint's page would (its polls compare it, in one small query)."""
    counted = _window_probes([endpoint.id], window_start(now)).aggregate(
        count=Count("id"), last=Max("id")
    )
    return counted["count"], counted["last"] or 0


def endpoint_readable_by(
    user: AbstractBaseUser | AnonymousUser, endpoint_id: int
) -> Endpoint | None:
    """An endpoint its student or its challenge's teacher may read; None for anyone
    else (who must not learn it exists)."""
    if not user.is_authenticated:
        return None
    endpoints = Endpoint.objects.select_related("challenge__split", "participant__user")
    mine = endpoints.filter(participant__user_id=user.pk)
    taught = owned_by(endpoints, user, owner="challenge__owner_id")
    return (mine | taught).filter(pk=endpoint_id).first()


@dataclass(frozen=True)
class Downtime:
    """An endpoint whose latest scheduled probes failed: since the first of them
    (after its last answer with a 2xx status, the uptime's measure), how many in a
    row, and the newest one (what went wrong)."""

    since: datetime
    failed_probes: int
    latest: Probe


def endpoint_down_since(endpoint: Endpoint) -> Downtime | None:
    """None while the newest recorded scheduled probe was answered with a 2xx status
    (or none was recorded yet). Over all the endpoint's history, not only the
    window: an endpoint down for two days has been down since two days ago. Checks
    ("check now") are left out, as from the metrics. Three indexed queries."""
    recorded = Probe.objects.filter(
        endpoint=endpoint,
        kind=ProbeKind.SCHEDULED,
        state__in=(ProbeState.DONE, ProbeState.LOST),
    )
    last_up = (
        recorded.filter(http_status__gte=200, http_status__lt=300)
        .order_by("-scheduled_at")
        .values_list("scheduled_at", flat=True)
        .first()
    )
    failing = recorded if last_up is None else recorded.filter(scheduled_at__gt=last_up)
    latest = failing.order_by("-scheduled_at").first()
    if latest is None:
        return None
    # An endpoint down for a week has thousands of failed probes: counted in SQL.
    run = failing.order_by().aggregate(since=Min("scheduled_at"), count=Count("id"))
    return Downtime(since=run["since"], failed_probes=run["count"], latest=latest)
