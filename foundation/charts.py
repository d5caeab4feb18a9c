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
import json
from dataclasses import dataclass, replace
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


def layout(x_axis: dict[str, Any], y_axis: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """The site's layout: no fixed width (the container decides), the legend above the
    plot where a phone has room for it, hover on the nearest point."""
    return {
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
        **extra,
    }


def figure(
    traces: list[Any], x_axis: dict[str, Any], y_axis: dict[str, Any], **extra: Any
) -> go.Figure:
    return go.Figure(data=traces, layout=layout(x_axis, y_axis, **extra))


# plotly's "none" template as a figure's JSON carries it.
NONE_TEMPLATE = {"data": {"scatter": [{"type": "scatter"}]}}


def scatter(name: str, x: list[Any], y: list[Any], text: list[str], **style: Any) -> dict[str, Any]:
    """A scatter trace as plain JSON-able data, the same as plotly's go.Scatter gives
    for these arguments (plotly's validation of each point costs more than the
    whole rest of a large chart)."""
    return {"type": "scatter", "name": name, "x": x, "y": y, "text": text, **style}


def plain_chart(
    chart_id: str,
    label: str,
    traces: list[dict[str, Any]],
    x_axis: dict[str, Any],
    y_axis: dict[str, Any],
    **extra: Any,
) -> Chart:
    """A chart from plain traces (scatter()), its JSON written directly. The layout
    comes first and the traces last, so that with_trace can add one at the end of
    the text without parsing it."""
    fig_layout = {**layout(x_axis, y_axis, **extra), "template": NONE_TEMPLATE}
    data = json.dumps(traces, separators=(",", ":"))
    fig_json = f'{{"layout":{json.dumps(fig_layout, separators=(",", ":"))},"data":{data}}}'
    return Chart(chart_id=chart_id, label=label, figure_json=fig_json)


def with_trace(base: Chart, trace: dict[str, Any] | None) -> Chart:
    """A copy of a plain_chart with `trace` drawn last (on top); `base` when None."""
    if trace is None or not base.figure_json:
        return base
    text = base.figure_json
    assert text.endswith("]}"), "with_trace takes a plain_chart"
    joint = "," if not text.endswith("[]}") else ""
    return replace(base, figure_json=f"{text[:-2]}{joint}{json.dumps(trace)}]}}")


def sla_line(name: str, x: list[Any], y: list[Any], colour: str = SLATE) -> go.Scatter:
    """A service-level objective drawn as a dashed line through (x, y): a threshold
    to read the marks against, with no hover label of its own."""
    return go.Scatter(
        name=name,
        x=x,
        y=y,
        mode="lines",
        line={"color": colour, "dash": "dash", "width": 2},
        hoverinfo="skip",
    )


def chart(chart_id: str, label: str, fig: go.Figure) -> Chart:
    return Chart(chart_id=chart_id, label=label, figure_json=fig.to_json(validate=False))


def empty_chart(chart_id: str, label: str, sentence: str) -> Chart:
    return Chart(chart_id=chart_id, label=label, empty=sentence)
