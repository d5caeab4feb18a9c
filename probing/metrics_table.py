"""An endpoint's metrics as label/value rows, formatted once for the endpoint
page and the admin."""

from __future__ import annotations

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


def metrics_rows(metrics: EndpointMetrics, sla_ms: int) -> list[tuple[str, str]]:
    latencies = (metrics.latency_p50_ms, metrics.latency_p95_ms, metrics.latency_p99_ms)
    return [
        ("Probes", str(metrics.probes)),
        ("Uptime", _percent(metrics.uptime)),
        ("Error rate", _percent(metrics.error_rate)),
        ("Latency p50 / p95 / p99", " / ".join(_ms(v) for v in latencies)),
        ("Score on probed rows", MISSING if metrics.score is None else f"{metrics.score:.4g}"),
        (f"SLA met (valid within {sla_ms} ms)", _percent(metrics.sla_compliance)),
        ("Freshness", _freshness(metrics)),
    ]
