"""The per-step chart of a pipeline's result page: where the time goes.

For each step, a bar of its fitting time (summed over folds) and a bar of its
95th-percentile inference latency per batch, against the per-step SLA when the
challenge sets one (the bar is red past it). Plain SVG, as the leaderboard's
charts (foundation/svg_chart.py): no JavaScript, every name escaped.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from judging.models import StepResult

ROW, BAR, LABEL_WIDTH, PANEL_WIDTH, GAP = 34, 12, 150, 230, 30
FIT, LATENCY, OVER, SLA_LINE = "#2186eb", "#3ebd93", "#e12d39", "#52606d"


def _panel(
    left: float,
    title: str,
    values: Sequence[float],
    colours: Sequence[str],
    unit: str,
    limit: float | None,
) -> SafeString:
    top = max([*values, limit or 0.0]) or 1.0
    width = PANEL_WIDTH - 40
    bars = format_html_join(
        "",
        '<rect x="{}" y="{}" width="{}" height="{}" fill="{}"><title>{} {}</title></rect>'
        '<text x="{}" y="{}" font-size="11">{}</text>',
        (
            (
                left,
                24 + index * ROW,
                f"{max(value / top * width, 1):.1f}",
                BAR,
                colour,
                f"{value:.4g}",
                unit,
                f"{left + max(value / top * width, 1) + 4:.1f}",
                24 + index * ROW + BAR - 2,
                f"{value:.3g} {unit}",
            )
            for index, (value, colour) in enumerate(zip(values, colours, strict=True))
        ),
    )
    marker = SafeString("")
    if limit is not None:
        x = f"{left + limit / top * width:.1f}"
        marker = format_html(
            '<line x1="{x}" y1="16" x2="{x}" y2="{y}" stroke="{c}" stroke-dasharray="4 3" '
            'class="sla"><title>SLA {v} {u}</title></line>',
            x=x,
            y=24 + len(values) * ROW,
            c=SLA_LINE,
            v=f"{limit:g}",
            u=unit,
        )
    return format_html(
        '<text x="{}" y="12" font-size="12" font-weight="bold">{}</text>{}{}',
        left,
        title,
        bars,
        marker,
    )


def step_chart(steps: Sequence[StepResult], step_sla_ms: int | None) -> SafeString:
    """Fitting time and p95 latency per step, the SLA marked."""
    if not steps:
        return SafeString("")
    height = 24 + len(steps) * ROW
    labels = format_html_join(
        "",
        '<text x="0" y="{}" font-size="12">{}</text>',
        ((24 + index * ROW + BAR - 2, step.name) for index, step in enumerate(steps)),
    )
    fit = _panel(
        LABEL_WIDTH,
        "fitting, s (all folds)",
        [step.fit_seconds for step in steps],
        [FIT] * len(steps),
        "s",
        None,
    )
    latency = _panel(
        LABEL_WIDTH + PANEL_WIDTH + GAP,
        "latency per batch, p95 ms",
        [step.latency_p95_ms for step in steps],
        [OVER if step.sla_met is False else LATENCY for step in steps],
        "ms",
        float(step_sla_ms) if step_sla_ms is not None else None,
    )
    width = LABEL_WIDTH + 2 * PANEL_WIDTH + GAP
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {w} {h}" '
        'width="100%" style="max-width:{w}px" class="step-chart"><title>{t}</title>{l}{f}{p}</svg>',
        w=width,
        h=height,
        t="Where the time goes, step by step",
        l=labels,
        f=fit,
        p=latency,
    )
