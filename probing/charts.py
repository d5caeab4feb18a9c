"""SVG charts of an endpoint over the metrics window: the latency of each probe
against the challenge's SLA, and uptime in equal slices of the window.

Probe scores are not charted: a score per handful of hidden rows would leak
their labels (see probing/api.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from foundation.svg_chart import BOTTOM, HEIGHT, LEFT, RIGHT, TOP, WIDTH, axes, scale, svg
from probing.models import Probe

OK_COLOUR, FAILED_COLOUR, SLA_COLOUR, BAR_COLOUR = "#3ebd93", "#e12d39", "#f0b429", "#2186eb"
SLICES = 24


def _is_up(probe: Probe) -> bool:
    return probe.http_status is not None and 200 <= probe.http_status < 300


def latency_chart(probes: Sequence[Probe], sla_ms: int) -> SafeString:
    """One dot per probe that got an answer (green with valid predictions, red
    otherwise), a red tick on the axis for each probe that got none, and the SLA
    as a dashed line."""
    if not probes:
        return format_html("<p>{}</p>", "No probe in the window yet.")
    start, end = probes[0].scheduled_at.timestamp(), probes[-1].scheduled_at.timestamp()
    answered = [p for p in probes if p.total_ms is not None and p.http_status is not None]
    answered_ids = {p.id for p in answered}
    top = max([sla_ms * 1.2, *(p.total_ms or 0.0 for p in answered)])
    x = scale(start, end, LEFT, WIDTH - RIGHT)
    y = scale(0.0, top, HEIGHT - BOTTOM, TOP + 8)
    dots = format_html_join(
        "",
        '<circle cx="{}" cy="{}" r="3" fill="{}" class="{}"><title>{}: {} ms, {}</title></circle>',
        (
            (
                f"{x(p.scheduled_at.timestamp()):.1f}",
                f"{y(p.total_ms or 0.0):.1f}",
                OK_COLOUR if p.outcome == "ok" else FAILED_COLOUR,
                "ok" if p.outcome == "ok" else "failed",
                f"{p.scheduled_at:%Y-%m-%d %H:%M:%S}",
                f"{p.total_ms:.0f}",
                p.outcome,
            )
            for p in answered
        ),
    )
    silent = format_html_join(
        "",
        '<line x1="{0}" y1="{1}" x2="{0}" y2="{2}" stroke="{3}" stroke-width="2" class="silent">'
        "<title>{4}: {5}</title></line>",
        (
            (
                f"{x(p.scheduled_at.timestamp()):.1f}",
                HEIGHT - BOTTOM,
                HEIGHT - BOTTOM - 10,
                FAILED_COLOUR,
                f"{p.scheduled_at:%Y-%m-%d %H:%M:%S}",
                p.outcome or p.state,
            )
            for p in probes
            if p.id not in answered_ids
        ),
    )
    sla = format_html(
        '<line x1="{}" y1="{y}" x2="{}" y2="{y}" stroke="{}" stroke-dasharray="6 4" class="sla"/>'
        '<text x="{}" y="{}" font-size="11" text-anchor="end">SLA {} ms</text>',
        LEFT,
        WIDTH - RIGHT,
        SLA_COLOUR,
        WIDTH - RIGHT,
        f"{y(sla_ms) - 4:.1f}",
        sla_ms,
        y=f"{y(sla_ms):.1f}",
    )
    body = format_html("{}{}{}{}", axes("probed at", "latency (ms)", 0.0, top), sla, silent, dots)
    return svg("Latency of each probe; the SLA dashed; probes without an answer in red", body)


def uptime_chart(probes: Sequence[Probe], start: datetime, end: datetime) -> SafeString:
    """The share of probes answered with a 2xx status in each of 24 slices of the
    window; a slice without probes has no bar."""
    if not probes:
        return format_html("<p>{}</p>", "No probe in the window yet.")
    t0, span = start.timestamp(), max(end.timestamp() - start.timestamp(), 1.0)
    slices: list[list[bool]] = [[] for _ in range(SLICES)]
    for probe in probes:
        index = int((probe.scheduled_at.timestamp() - t0) / span * SLICES)
        slices[min(max(index, 0), SLICES - 1)].append(_is_up(probe))
    width = (WIDTH - LEFT - RIGHT) / SLICES
    y = scale(0.0, 100.0, HEIGHT - BOTTOM, TOP + 8)
    bars = format_html_join(
        "",
        '<rect x="{}" y="{}" width="{}" height="{}" fill="{}" class="slice">'
        "<title>{}/{} probes up</title></rect>",
        (
            (
                f"{LEFT + i * width + 1:.1f}",
                f"{y(100.0 * sum(ups) / len(ups)):.1f}",
                f"{width - 2:.1f}",
                f"{(HEIGHT - BOTTOM) - y(100.0 * sum(ups) / len(ups)):.1f}",
                BAR_COLOUR,
                sum(ups),
                len(ups),
            )
            for i, ups in enumerate(slices)
            if ups
        ),
    )
    body = format_html(
        "{}{}", axes(f"{start:%Y-%m-%d %H:%M} to {end:%H:%M}", "uptime (%)", 0.0, 100.0), bars
    )
    return svg("Uptime in each slice of the window", body)
