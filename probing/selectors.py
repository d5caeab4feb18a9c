"""Endpoint metrics over a window of recent probes, for pages, the API and the
leaderboard.

Over the scheduled probes of the window (checks never count):
- uptime: the share of probes the endpoint answered with a 2xx status;
- error rate: the share that did not end with valid predictions (any failure,
  including probes no worker answered);
- latency p50/p95/p99: over probes that got an HTTP answer;
- score: the mean of the probes' scores on their rows;
- SLA compliance: the share with valid predictions within the latency SLA;
- freshness: the release the newest successful probe reported having been
  trained on, against the latest release delivered: how many releases behind,
  and for how long the next one has been available.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from challenges.models import Challenge
from dispatch.models import Release, TransactionState
from probing.models import Endpoint, Probe, ProbeKind, ProbeState

OK = "ok"


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
    score: float | None
    sla_compliance: float | None
    freshness: Freshness


def _share(count: int, total: int) -> float | None:
    return count / total if total else None


def _percentile(values: list[float], q: float) -> float | None:
    return float(np.percentile(values, q)) if values else None


def _window_probes(endpoints: list[int], since: datetime) -> QuerySet[Probe]:
    return Probe.objects.filter(
        endpoint_id__in=endpoints,
        kind=ProbeKind.SCHEDULED,
        state__in=(ProbeState.DONE, ProbeState.LOST),
        scheduled_at__gte=since,
    ).order_by("scheduled_at")


def delivered_releases(challenge: Challenge) -> dict[int, datetime]:
    """Each release delivered at least once: its sequence and when it first was."""
    delivered: dict[int, datetime] = {}
    rows = (
        Release.objects.filter(challenge=challenge, transactions__state=TransactionState.DONE)
        .values_list("sequence", "transactions__finished_at")
        .order_by("sequence")
    )
    for sequence, finished_at in rows:
        if finished_at is not None and (
            sequence not in delivered or finished_at < delivered[sequence]
        ):
            delivered[sequence] = finished_at
    return delivered


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


def _metrics(probes: list[Probe], sla_ms: int, fresh: Freshness) -> EndpointMetrics:
    total = len(probes)
    ok = [p for p in probes if p.outcome == OK]
    latencies = [p.total_ms for p in probes if p.total_ms is not None and p.http_status]
    scores = [p.score for p in ok if p.score is not None]
    return EndpointMetrics(
        probes=total,
        uptime=_share(
            sum(1 for p in probes if p.http_status and 200 <= p.http_status < 300), total
        ),
        error_rate=_share(total - len(ok), total),
        latency_p50_ms=_percentile(latencies, 50),
        latency_p95_ms=_percentile(latencies, 95),
        latency_p99_ms=_percentile(latencies, 99),
        score=float(np.mean(scores)) if scores else None,
        sla_compliance=_share(
            sum(1 for p in ok if p.total_ms is not None and p.total_ms <= sla_ms), total
        ),
        freshness=fresh,
    )


def window_start(now: datetime | None = None) -> datetime:
    return (now or timezone.now()) - timedelta(hours=settings.PPIPE_PROBE_WINDOW_HOURS)


def endpoint_metrics(endpoint: Endpoint, now: datetime | None = None) -> EndpointMetrics:
    now = now or timezone.now()
    probes = list(_window_probes([endpoint.id], window_start(now)))
    return _challenge_metrics(endpoint.challenge, {endpoint.id: probes}, now)[endpoint.id]


def challenge_endpoint_metrics(
    challenge: Challenge, now: datetime | None = None
) -> dict[int, EndpointMetrics]:
    """Metrics of every endpoint of the challenge, by participant id."""
    now = now or timezone.now()
    endpoints = dict(
        Endpoint.objects.filter(challenge=challenge).values_list("id", "participant_id")
    )
    by_endpoint: dict[int, list[Probe]] = defaultdict(list)
    fields = (
        "endpoint_id",
        "outcome",
        "http_status",
        "total_ms",
        "score",
        "data_version",
        "scheduled_at",
    )
    for probe in _window_probes(list(endpoints), window_start(now)).only(*fields):
        by_endpoint[probe.endpoint_id].append(probe)
    metrics = _challenge_metrics(challenge, {e: by_endpoint.get(e, []) for e in endpoints}, now)
    return {endpoints[endpoint_id]: value for endpoint_id, value in metrics.items()}


def _challenge_metrics(
    challenge: Challenge, probes: dict[int, list[Probe]], now: datetime
) -> dict[int, EndpointMetrics]:
    delivered = delivered_releases(challenge)
    metrics = {}
    for endpoint_id, rows in probes.items():
        reported = next((p.data_version for p in reversed(rows) if p.outcome == OK), "")
        metrics[endpoint_id] = _metrics(
            rows, challenge.latency_sla_ms, freshness(reported, delivered, now)
        )
    return metrics


def endpoint_history(endpoint: Endpoint, now: datetime | None = None) -> list[Probe]:
    """The window's scheduled probes, oldest first, for the endpoint's charts."""
    return list(_window_probes([endpoint.id], window_start(now)))
