"""Prometheus metrics at /metrics, for staff and for a scraper holding
PPIPE_METRICS_TOKEN: queue lengths, jobs by state, failures by queue, kind (a
fixed vocabulary, worker_wing.jobs.FailureKind) and cause (the student's or the
operators'), judge job durations and the probe latencies of the metrics window.

Everything is read from the broker and the database at scrape time (a custom
collector), so every web process reports the same figures and nothing has to be
pushed from the workers, which hold no database credentials.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator, Sequence
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet, Sum
from django.http import HttpRequest, HttpResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeHistogramMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
)
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

from judging.models import Submission, SubmissionState
from operations.jobs import failures_by_kind, jobs_by_state, queue_lengths
from probing.models import Probe, ProbeState
from probing.selectors import window_start
from retention.selectors import last_collection_pass, store_usage_by_challenge
from worker_wing.jobs import failure_cause

JUDGE_SECONDS = (1, 5, 15, 30, 60, 120, 300, 600, 1800)
PROBE_MS = (10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000)


def _buckets(
    queryset: QuerySet[Any], field: str, bounds: Sequence[float]
) -> tuple[list[tuple[str, float]], float]:
    """Cumulative bucket counts and the sum of `field`, in one query."""
    counts = {f"le_{bound}": Count("id", filter=Q(**{f"{field}__lte": bound})) for bound in bounds}
    values = queryset.order_by().aggregate(count=Count("id"), total=Sum(field), **counts)
    buckets = [(str(float(bound)), values[f"le_{bound}"]) for bound in bounds]
    return [*buckets, ("+Inf", values["count"])], values["total"] or 0.0


class PlatformCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        queues = GaugeMetricFamily(
            "ppipe_queue_length", "Messages waiting in a broker queue.", labels=["queue"]
        )
        for queue, length in queue_lengths().items():
            if length is not None:
                queues.add_metric([queue], length)
        yield queues

        jobs = GaugeMetricFamily(
            "ppipe_jobs", "Jobs by queue and state.", labels=["queue", "state"]
        )
        for queue, states in jobs_by_state().items():
            for state, count in states.items():
                jobs.add_metric([queue, state], count)
        yield jobs

        failures = CounterMetricFamily(
            "ppipe_job_failures",
            "Failed or cancelled jobs by queue, kind and cause: student (their code or "
            "its limits) or operations (sandbox, infrastructure, lost, cancelled).",
            labels=["queue", "kind", "cause"],
        )
        for (queue, kind), count in failures_by_kind().items():
            failures.add_metric([queue, kind, failure_cause(kind)], count)
        yield failures

        judged = Submission.objects.filter(
            state__in=(SubmissionState.SCORED, SubmissionState.FAILED), wall_seconds__isnull=False
        )
        buckets, total = _buckets(judged, "wall_seconds", JUDGE_SECONDS)
        yield HistogramMetricFamily(
            "ppipe_judge_job_seconds",
            "Wall time of judge jobs (training and prediction in the sandbox).",
            buckets=buckets,
            sum_value=total,
        )
        # Probes are many (an endpoint a minute is 1,440 a day): the window's only,
        # as a gauge histogram, which may go down as probes leave the window.
        answered = Probe.objects.filter(
            state=ProbeState.DONE, total_ms__isnull=False, scheduled_at__gte=window_start()
        )
        buckets, total = _buckets(answered, "total_ms", PROBE_MS)
        yield GaugeHistogramMetricFamily(
            "ppipe_probe_latency_ms",
            f"Latency of probes answered in the last {settings.PPIPE_PROBE_WINDOW_HOURS} hours.",
            buckets=buckets,
            gsum_value=total,
        )
        yield from _store_metrics()


def _store_metrics() -> Iterator[Metric]:
    # Measured by the collector's last pass (retention/services.py), not at scrape
    # time: walking the store for every scrape would cost more than the scrape.
    usage_bytes = GaugeMetricFamily(
        "ppipe_store_bytes",
        "Bytes of the artifact store a challenge's rows refer to (shared files count in "
        "each), as the collector's last pass measured.",
        labels=["challenge"],
    )
    usage_files = GaugeMetricFamily(
        "ppipe_store_files",
        "Files of the artifact store a challenge's rows refer to.",
        labels=["challenge"],
    )
    for usage in store_usage_by_challenge():
        usage_bytes.add_metric([usage.challenge.slug], usage.bytes)
        usage_files.add_metric([usage.challenge.slug], usage.blobs)
    yield usage_bytes
    yield usage_files
    collection = last_collection_pass()
    if collection is not None and collection.finished_at is not None:
        yield GaugeMetricFamily(
            "ppipe_store_total_bytes",
            "Bytes of the whole artifact store after the collector's last pass.",
            value=collection.store_bytes,
        )
        yield GaugeMetricFamily(
            "ppipe_store_collection_timestamp_seconds",
            "When the collector's last pass finished.",
            value=collection.finished_at.timestamp(),
        )
        yield GaugeMetricFamily(
            "ppipe_store_collection_freed_bytes",
            "Bytes the collector's last pass deleted.",
            value=collection.bytes_freed,
        )


def _allowed(request: HttpRequest) -> bool:
    token = settings.PPIPE_METRICS_TOKEN
    header = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(header.encode(), f"Bearer {token}".encode()):
        return True
    return bool(request.user.is_authenticated and request.user.is_staff)


def metrics_view(request: HttpRequest) -> HttpResponse:
    if not _allowed(request):
        return HttpResponse(
            "Metrics are for staff, or a scraper sending "
            "Authorization: Bearer PPIPE_METRICS_TOKEN.",
            status=403,
            content_type="text/plain",
        )
    registry = CollectorRegistry(auto_describe=False)
    registry.register(PlatformCollector())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)
