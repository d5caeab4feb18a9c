"""An endpoint's metrics as label/value rows, formatted once for the endpoint
page and the admin."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings

from probing.selectors import EndpointMetrics

MISSING = "n/a"


def _percent(value: float | None) -> str:
    return MISSING if value is None else f"{100 * value:.1f} %"


def _ms(value: float | None) -> str:
    return MISSING if value is None else f"{value:.0f} ms"


def _freshness(metrics: EndpointMetrics) -> str:
    fresh = metrics.freshness
    if not fresh.data_version:
        return "not reported (send the X-Data-Version header or a data_version field)"
    if not fresh.data_version.isdigit():
        return f"reports {fresh.data_version!r}, which is not a release number"
    if fresh.latest_release is None or fresh.releases_behind is None:
        return f"trained on release {fresh.data_version}; no release delivered yet"
    if fresh.releases_behind == 0:
        return f"trained on release {fresh.data_version}, the latest"
    hours = "" if fresh.hours_behind is None else f", for {fresh.hours_behind:.1f} h"
    return (
        f"trained on release {fresh.data_version}: {fresh.releases_behind} behind "
        f"release {fresh.latest_release}{hours}"
    )


def _when(at: datetime | None) -> str:
    return MISSING if at is None else f"{at:%Y-%m-%d %H:%M %Z}"


def _score(metrics: EndpointMetrics) -> str:
    """The published live score, with when and how precisely (probing/publication.py)."""
    following = f"next publication {_when(metrics.score_next_publication_at)}"
    if metrics.score is None:
        return (
            f"not yet published ({following}, once {settings.PPIPE_PROBE_SCORE_MIN_ROWS} "
            "rows of valid answers are in the window)"
        )
    step = "" if metrics.score_step is None else f" ± {metrics.score_step:.3g}"
    return (
        f"{metrics.score:.4g}{step} (published {_when(metrics.score_published_at)} over "
        f"{metrics.score_rows} rows; {following})"
    )


def metrics_rows(metrics: EndpointMetrics, sla_ms: int) -> list[tuple[str, str]]:
    latencies = (metrics.latency_p50_ms, metrics.latency_p95_ms, metrics.latency_p99_ms)
    return [
        ("Probes", str(metrics.probes)),
        ("Uptime", _percent(metrics.uptime)),
        ("Error rate", _percent(metrics.error_rate)),
        ("Latency p50 / p95 / p99", " / ".join(_ms(v) for v in latencies)),
        ("Score on probed rows", _score(metrics)),
        (f"SLA met (valid within {sla_ms} ms)", _percent(metrics.sla_compliance)),
        ("Freshness", _freshness(metrics)),
    ]
