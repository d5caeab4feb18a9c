"""The frame of the site's SVG charts: a fixed viewBox, two axes with their
labels and the y range, and a scale from data to pixels.

Plain SVG built with Django's escaping helpers: no JavaScript, readable in any
browser and in tests, and any text (a participant's name) is escaped.
"""

from __future__ import annotations

from collections.abc import Callable

from django.utils.html import format_html
from django.utils.safestring import SafeString

WIDTH, HEIGHT, LEFT, RIGHT, TOP, BOTTOM = 640, 300, 64, 16, 16, 40


def scale(low: float, high: float, out_low: float, out_high: float) -> Callable[[float], float]:
    span = (high - low) or 1.0
    return lambda value: out_low + (out_high - out_low) * (value - low) / span


def axes(x_label: str, y_label: str, y_low: float, y_high: float) -> SafeString:
    bottom = HEIGHT - BOTTOM
    return format_html(
        '<line x1="{l}" y1="{b}" x2="{r}" y2="{b}" stroke="#52606d"/>'
        '<line x1="{l}" y1="{t}" x2="{l}" y2="{b}" stroke="#52606d"/>'
        '<text x="{mid}" y="{lab}" font-size="12" text-anchor="middle">{x}</text>'
        '<text x="12" y="{ymid}" font-size="12" text-anchor="middle" '
        'transform="rotate(-90 12 {ymid})">{y}</text>'
        '<text x="{tick}" y="{b}" font-size="11" text-anchor="end">{ylo}</text>'
        '<text x="{tick}" y="{tt}" font-size="11" text-anchor="end">{yhi}</text>',
        l=LEFT,
        r=WIDTH - RIGHT,
        t=TOP,
        b=bottom,
        mid=(LEFT + WIDTH - RIGHT) / 2,
        lab=HEIGHT - 8,
        ymid=(TOP + bottom) / 2,
        x=x_label,
        y=y_label,
        tick=LEFT - 4,
        tt=TOP + 10,
        ylo=f"{y_low:.4g}",
        yhi=f"{y_high:.4g}",
    )


def svg(title: str, body: SafeString) -> SafeString:
    return format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" role="img" viewBox="0 0 {} {}" '
        'width="100%" style="max-width:{}px"><title>{}</title>{}</svg>',
        WIDTH,
        HEIGHT,
        WIDTH,
        title,
        body,
    )
