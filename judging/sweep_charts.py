"""A sweep's table and its two charts on the result page (plotly figures,
foundation/charts.py): each configuration's cross-validation score against its p95
end-to-end latency per batch, and against its throughput, one mark per
configuration, the Pareto front joined, the SLA drawn; and which configuration
meets the SLAs at the least cost among those scoring as well as the best.

Cost is what serving at the configuration's throughput takes: the cores its
sandbox was granted for the time 1,000 rows took to predict (core-seconds per
1,000 rows). Configurations run without a core count (a sweep of alternatives
only) have no cost: nothing says what they held.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import plotly.graph_objects as go

from foundation.charts import (
    BLUE,
    GREEN,
    GREY,
    ORANGE,
    Chart,
    axis,
    chart,
    escaped,
    figure,
    sla_line,
)
from judging.models import ConfigurationResult


def configuration_cost(row: ConfigurationResult) -> float | None:
    """Core-seconds per 1,000 rows predicted, or None when unknown."""
    if not row.cores or not row.throughput_rows_per_second:
        return None
    return row.cores * 1000 / row.throughput_rows_per_second


def configuration_title(row: ConfigurationResult) -> str:
    """The configuration's alternatives, cores and batch size, as the table names it."""
    parts = [row.label] if row.configuration else []
    if row.cores:
        parts.append(f"{row.cores} core{'s' if row.cores > 1 else ''}")
    if row.batch_size is not None:
        parts.append(f"batch {row.batch_size}" if row.batch_size else "one batch")
    return ", ".join(parts) or "-"


def pareto_front(
    rows: Sequence[ConfigurationResult], cost: Callable[[ConfigurationResult], float]
) -> list[ConfigurationResult]:
    """The configurations no other beats on both score (higher) and `cost` (lower),
    by increasing cost."""
    ordered = sorted(rows, key=lambda row: (cost(row), -row.cv_mean))
    front: list[ConfigurationResult] = []
    for row in ordered:
        if not front or row.cv_mean > front[-1].cv_mean:
            front.append(row)
    return front


def least_cost_meeting_slas(rows: Sequence[ConfigurationResult]) -> ConfigurationResult | None:
    """Among the configurations that missed no SLA and scored as well as the best of
    them (within its cross-validation standard deviation: a cheaper but worse model
    is not the answer), the one of least cost (then the better score, then the
    earlier); None when none has a cost or every one missed an SLA."""
    candidates = [
        row for row in rows if row.sla_met is not False and configuration_cost(row) is not None
    ]
    if not candidates:
        return None
    best = max(candidates, key=lambda row: row.cv_mean)
    good = [row for row in candidates if row.cv_mean >= best.cv_mean - best.cv_std]
    return min(good, key=lambda row: (configuration_cost(row), -row.cv_mean, row.index))


def _hover(row: ConfigurationResult) -> str:
    cost = configuration_cost(row)
    return escaped(
        f"{configuration_title(row)}: CV {row.cv_mean:.4g}, p95 {row.latency_p95_ms:.3g} ms, "
        f"{row.throughput_rows_per_second or 0:.4g} rows/s"
        + (f", cost {cost:.3g} core-s per 1,000 rows" if cost is not None else "")
    )


def _marks(
    rows: Sequence[ConfigurationResult], x: Callable[[ConfigurationResult], float]
) -> list[go.Scatter]:
    met = [row for row in rows if row.sla_met is not False]
    missed = [row for row in rows if row.sla_met is False]
    traces = []
    for name, colour, chosen in (("meets the SLAs", GREEN, met), ("misses an SLA", GREY, missed)):
        if chosen:
            traces.append(
                go.Scatter(
                    name=name,
                    x=[x(row) for row in chosen],
                    y=[row.cv_mean for row in chosen],
                    text=[_hover(row) for row in chosen],
                    mode="markers",
                    marker={"color": colour, "size": 10},
                    hovertemplate="%{text}<extra></extra>",
                )
            )
    return traces


def _front(
    front: Sequence[ConfigurationResult], x: Callable[[ConfigurationResult], float]
) -> go.Scatter:
    return go.Scatter(
        name="Pareto front",
        x=[x(row) for row in front],
        y=[row.cv_mean for row in front],
        mode="lines",
        line={"color": BLUE, "width": 2, "shape": "hv"},
        hoverinfo="skip",
    )


def _pick(
    pick: ConfigurationResult | None, x: Callable[[ConfigurationResult], float]
) -> list[go.Scatter]:
    if pick is None:
        return []
    return [
        go.Scatter(
            name="least cost meeting the SLAs",
            x=[x(pick)],
            y=[pick.cv_mean],
            text=[_hover(pick)],
            mode="markers",
            marker={"color": ORANGE, "size": 16, "symbol": "star"},
            hovertemplate="%{text}<extra></extra>",
        )
    ]


def _score_range(rows: Sequence[ConfigurationResult]) -> list[float]:
    low, high = min(row.cv_mean for row in rows), max(row.cv_mean for row in rows)
    pad = (high - low) * 0.1 or 0.05
    return [low - pad, high + pad]


def accuracy_latency_chart(
    rows: Sequence[ConfigurationResult], sla_ms: int | None, pick: ConfigurationResult | None
) -> Chart:
    label = (
        "Cross-validation score against p95 end-to-end latency per batch, one mark per "
        "configuration"
    )

    def latency(row: ConfigurationResult) -> float:
        return row.latency_p95_ms

    traces = [
        *_marks(rows, latency),
        _front(pareto_front(rows, latency), latency),
        *_pick(pick, latency),
    ]
    y_range = _score_range(rows)
    if sla_ms is not None:
        traces.append(sla_line(f"end-to-end SLA ({sla_ms} ms)", [sla_ms, sla_ms], y_range))
    fig = figure(
        traces,
        axis("p95 latency per batch (ms, log)", type="log"),
        axis("CV score", range=y_range),
    )
    return chart("sweep-latency-chart", label, fig)


def accuracy_throughput_chart(
    rows: Sequence[ConfigurationResult], sla_ms: int | None, pick: ConfigurationResult | None
) -> Chart:
    label = (
        "Cross-validation score against throughput (rows per second), one mark per configuration"
    )
    measured = [row for row in rows if row.throughput_rows_per_second]

    def throughput(row: ConfigurationResult) -> float:
        return row.throughput_rows_per_second or 0.0

    def slower(row: ConfigurationResult) -> float:  # the front: higher throughput is better
        return -throughput(row)

    front = sorted(pareto_front(measured, slower), key=throughput)
    traces = [*_marks(measured, throughput), _front(front, throughput), *_pick(pick, throughput)]
    fig = figure(
        traces,
        axis("throughput (rows/s, log)", type="log"),
        axis("CV score", range=_score_range(measured or rows)),
    )
    del sla_ms  # the SLA is on latency: drawn on the other chart
    return chart("sweep-throughput-chart", label, fig)


def sweep_charts(
    rows: Sequence[ConfigurationResult], sla_ms: int | None
) -> tuple[list[Chart], ConfigurationResult | None]:
    """Both charts of a sweep (none for a single configuration), and the configuration
    meeting the SLAs at the least cost."""
    pick = least_cost_meeting_slas(rows)
    if len(rows) < 2:
        return [], pick
    return [
        accuracy_latency_chart(rows, sla_ms, pick),
        accuracy_throughput_chart(rows, sla_ms, pick),
    ], pick
