"""The endpoint's charts (plotly figures, foundation/charts.py) over the metrics
window: the latency of each scheduled probe against the SLA, and uptime hour by
hour. A failed probe shows as a failure in both: a red cross at its time (at its
latency when it got one, on the axis when it got none) over a red band, and a red
part of its hour's bar.

Probe scores are not charted: a score per handful of hidden rows would leak
their labels (see probing/api.py).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta

import plotly.graph_objects as go
from django.utils import timezone

from foundation.charts import (
    AMBER,
    GREEN,
    RED,
    Chart,
    axis,
    chart,
    empty_chart,
    escaped,
    figure,
    sla_line,
)
from probing.models import Probe

OK = "ok"
NO_PROBE = "No probe in the window yet."
HOUR = timedelta(hours=1)


def _is_up(probe: Probe) -> bool:
    """The uptime's measure (probing/selectors.py): answered with a 2xx status."""
    return probe.http_status is not None and 200 <= probe.http_status < 300


def _local(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S")


def _why(probe: Probe) -> str:
    reason = probe.outcome or probe.state
    detail = probe.detail if len(probe.detail) <= 80 else probe.detail[:79] + "…"
    return escaped(f"{reason}: {detail}" if detail else reason)


def latency_chart(probes: Sequence[Probe], sla_ms: int, start: datetime, end: datetime) -> Chart:
    """Green dots for probes answered with valid predictions, a red cross for each
    failure, the SLA as a dashed line."""
    label = "Latency of each probe against the SLA; failed probes as red crosses"
    if not probes:
        return empty_chart("latency-chart-plot", label, NO_PROBE)
    good = [p for p in probes if p.outcome == OK and p.total_ms is not None]
    failed = [p for p in probes if p not in good]
    x_range = [_local(start), _local(end)]
    traces = [
        go.Scatter(
            name="valid answer",
            x=[_local(p.scheduled_at) for p in good],
            y=[p.total_ms for p in good],
            mode="markers",
            marker={"color": GREEN, "size": 8},
            hovertemplate="%{x|%H:%M:%S}: %{y:.0f} ms<extra>valid answer</extra>",
        ),
        go.Scatter(
            name="failed",
            x=[_local(p.scheduled_at) for p in failed],
            # A probe with no answer has no latency: its cross sits on the axis.
            y=[p.total_ms or 0.0 for p in failed],
            text=[_why(p) for p in failed],
            mode="markers",
            marker={"color": RED, "size": 12, "symbol": "x"},
            hovertemplate="%{x|%H:%M:%S}: %{text}<extra>failed</extra>",
        ),
        sla_line(f"SLA ({sla_ms} ms)", x_range, [sla_ms, sla_ms], AMBER),
    ]
    # A red band at each failure's time, down the whole plot: seen at a glance.
    bands = [
        {
            "type": "line",
            "xref": "x",
            "yref": "paper",
            "x0": _local(p.scheduled_at),
            "x1": _local(p.scheduled_at),
            "y0": 0,
            "y1": 1,
            "line": {"color": RED, "width": 2},
            "opacity": 0.3,
            "layer": "below",
        }
        for p in failed
    ]
    top = max([sla_ms * 1.2, *(p.total_ms or 0.0 for p in probes)])
    fig = figure(
        traces,
        axis(f"probed at ({timezone.get_current_timezone_name()})", type="date", range=x_range),
        axis("latency (ms)", range=[0, top * 1.05]),
        shapes=bands,
    )
    return chart("latency-chart-plot", label, fig)


def uptime_chart(probes: Sequence[Probe], start: datetime, end: datetime) -> Chart:
    """For each hour of the window, its probes answered with a 2xx status (green)
    and those that failed (red), stacked; the hover tells the hour's uptime."""
    label = "Probes per hour: up in green, failed in red"
    if not probes:
        return empty_chart("uptime-chart-plot", label, NO_PROBE)
    first = timezone.localtime(start).replace(minute=0, second=0, microsecond=0)
    hours = int((end - first) / HOUR) + 1
    up, down = [0] * hours, [0] * hours
    for probe in probes:
        index = min(max(int((probe.scheduled_at - first) / HOUR), 0), hours - 1)
        (up if _is_up(probe) else down)[index] += 1
    slots = [_local(first + i * HOUR + HOUR / 2) for i in range(hours)]
    shares = [
        f"{100 * u / (u + d):.0f} % up of {u + d}" if u + d else "no probe"
        for u, d in zip(up, down, strict=True)
    ]
    most = max(u + d for u, d in zip(up, down, strict=True))
    hover = "%{x|%H}:00 to %{x|%H}:59: %{y} %{meta}<br>uptime %{text}<extra></extra>"

    def bars(name: str, counts: list[int], meta: str, color: str) -> go.Bar:
        return go.Bar(
            name=name,
            x=slots,
            y=counts,
            text=shares,
            textposition="none",
            meta=meta,
            marker={"color": color},
            width=HOUR.total_seconds() * 1000 * 0.85,
            hovertemplate=hover,
        )

    traces = [bars("up (2xx answer)", up, "up", GREEN), bars("failed", down, "failed", RED)]
    fig = figure(
        traces,
        axis(f"hour ({timezone.get_current_timezone_name()})", type="date"),
        # Whole probes: ticks at integers, about five of them.
        axis("probes in the hour", rangemode="tozero", dtick=max(1, math.ceil(most / 5))),
        barmode="stack",
    )
    return chart("uptime-chart-plot", label, fig)
