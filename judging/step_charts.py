"""The per-step charts of a pipeline's result page (plotly figures,
foundation/charts.py): where the time goes. Each step's fitting time (summed
over folds), and its 95th-percentile inference latency per batch against the
per-step SLA when the challenge sets one (a step past it in red)."""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go

from foundation.charts import BLUE, GREEN, RED, Chart, axis, chart, escaped, figure, sla_line
from judging.models import StepResult

ROW_HEIGHT, FRAME_HEIGHT = 36, 150


def _height(steps: Sequence[StepResult]) -> int:
    return FRAME_HEIGHT + ROW_HEIGHT * len(steps)


def _step_axis() -> dict[str, object]:
    # The pipeline's order, first step on top.
    return axis("step", type="category", autorange="reversed")


def step_fit_chart(steps: Sequence[StepResult]) -> Chart:
    label = "Fitting time of each step, summed over the folds"
    fig = figure(
        [
            go.Bar(
                name="fitting time",
                orientation="h",
                x=[step.fit_seconds for step in steps],
                y=[escaped(step.name) for step in steps],
                marker={"color": BLUE},
                hovertemplate="<b>%{y}</b>: fitting %{x:.3g} s<extra></extra>",
            )
        ],
        axis("fitting time (s, all folds)", rangemode="tozero"),
        _step_axis(),
        height=_height(steps),
        showlegend=True,
    )
    return chart("step-fit-chart", label, fig)


def step_latency_chart(steps: Sequence[StepResult], step_sla_ms: int | None) -> Chart:
    label = "p95 inference latency per batch of each step, against the step SLA"
    past = [step.sla_met is False for step in steps]

    def bars(name: str, colour: str, chosen: Sequence[StepResult]) -> go.Bar:
        return go.Bar(
            name=name,
            orientation="h",
            x=[step.latency_p95_ms for step in chosen],
            y=[escaped(step.name) for step in chosen],
            marker={"color": colour},
            hovertemplate="<b>%{y}</b>: p95 %{x:.3g} ms per batch<extra></extra>",
        )

    traces = [
        bars("p95 latency", GREEN, [s for s, late in zip(steps, past, strict=True) if not late]),
    ]
    if any(past):
        traces.append(
            bars("past the SLA", RED, [s for s, late in zip(steps, past, strict=True) if late])
        )
    if step_sla_ms is not None:
        names = [escaped(step.name) for step in steps]
        traces.append(sla_line(f"step SLA ({step_sla_ms} ms)", [step_sla_ms] * len(names), names))
    fig = figure(
        traces,
        axis("p95 latency per batch (ms)", rangemode="tozero"),
        _step_axis(),
        height=_height(steps),
        barmode="overlay",
    )
    return chart("step-latency-chart", label, fig)


def step_charts(steps: Sequence[StepResult], step_sla_ms: int | None) -> list[Chart]:
    """Both charts, or none for a submission without steps."""
    if not steps:
        return []
    return [step_fit_chart(steps), step_latency_chart(steps, step_sla_ms)]
