"""The site's charts: figures built in Python with plotly, drawn in the browser by
plotly.js (served from the plotly package's own files, never a CDN).

Why plotly rather than Vega-Lite through altair and vl-convert (server-side SVG):
a reader needs the name and values of a point on hover, and vl-convert's SVG has
none (checked with vl-convert 1.9: a point carries an aria-label, no <title>;
Vega's tooltips are event handlers of a live view); vl-convert also installs
88 MB (a JavaScript runtime) and took 2 s for its first SVG, 0.1 s for each next,
on the web process. plotly
gives hover labels, a legend, axes with values and titles and a chart that
follows its container's width, from a figure that is plain JSON: the page embeds
it and ppipe_site/static/ppipe_site/charts.js draws it, also after htmx swaps a
polled fragment in. The cost is one 4.8 MB script (1.5 MB gzipped), cached by
the browser; see README ("Charts").

Names in a figure (participants, teams) are HTML-escaped: plotly.js reads a few
tags in labels, and an escaped name shows as typed.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

import plotly.graph_objects as go

# The palette of the old charts, kept: blue for the front, green for good, red for
# failures, orange for the reader's own points and the SLA.
BLUE, GREEN, RED, GREY, ORANGE, AMBER, SLATE = (
    "#2186eb",
    "#3ebd93",
    "#e12d39",
    "#9aa5b1",
    "#f35627",
    "#f0b429",
    "#52606d",
)
HEIGHT = 360


@dataclass(frozen=True)
class Chart:
    """One chart for a template (charts/chart.html): its element id, a sentence
    saying what it shows (for screen readers), and the figure as JSON, or the
    sentence to show instead when there is nothing to draw."""

    chart_id: str
    label: str
    figure_json: str = ""
    empty: str = ""


def escaped(name: str) -> str:
    return html.escape(name, quote=True)


def axis(title: str, **extra: Any) -> dict[str, Any]:
    return {
        "title": {"text": title},
        "automargin": True,
        "showline": True,
        "linecolor": "#52606d",
        "gridcolor": "#e4e7eb",
        "zeroline": False,
        # Zoom and pan would capture a phone's scrolling; hover is what readers need.
        "fixedrange": True,
        **extra,
    }


def figure(
    traces: list[Any], x_axis: dict[str, Any], y_axis: dict[str, Any], **layout: Any
) -> go.Figure:
    """A figure with the site's layout: no fixed width (the container decides), the
    legend above the plot where a phone has room for it, hover on the nearest point."""
    return go.Figure(
        data=traces,
        layout={
            # The empty template: the default one would add 10 kB of JSON to each chart.
            "template": "none",
            "height": HEIGHT,
            "autosize": True,
            "margin": {"l": 8, "r": 8, "t": 8, "b": 8},
            "font": {"family": "system-ui, sans-serif", "size": 12, "color": "#1f2933"},
            "legend": {"orientation": "h", "x": 0, "y": 1.02, "yanchor": "bottom"},
            "hovermode": "closest",
            "dragmode": False,
            "xaxis": x_axis,
            "yaxis": y_axis,
            **layout,
        },
    )


def chart(chart_id: str, label: str, fig: go.Figure) -> Chart:
    return Chart(chart_id=chart_id, label=label, figure_json=fig.to_json(validate=False))


def empty_chart(chart_id: str, label: str, sentence: str) -> Chart:
    return Chart(chart_id=chart_id, label=label, empty=sentence)
