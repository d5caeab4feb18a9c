"""The leaderboard's charts (plotly figures, foundation/charts.py): score against
CPU time with the Pareto front, and each participant's improvements over time
with the best so far. The reader's own row (theirs, or their team's) is drawn
over it, as the trace named "you", in both.

A chart is built once for every reader (the view caches it with the leaderboard:
with 300 participants building it is most of a page's time) and the reader's
small "you" trace is added to a copy of its JSON (with_reader).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from foundation.charts import (
    BLUE,
    GREEN,
    GREY,
    ORANGE,
    Chart,
    axis,
    empty_chart,
    escaped,
    plain_chart,
    scatter,
    with_trace,
)
from judging.leaderboard import LeaderboardRow, ScoredPoint

YOU = "you"
NO_SCORE = "No scored submission yet."


@dataclass(frozen=True)
class Entry:
    """A point on the score/cost chart."""

    label: str
    cost: float
    score: float
    members: frozenset[str] = frozenset()


def pareto_front(entries: Sequence[Entry]) -> list[Entry]:
    """The entries no other entry beats on both axes (higher score for no more CPU),
    cheapest first."""
    front: list[Entry] = []
    for entry in sorted(entries, key=lambda e: (e.cost, -e.score)):
        if not front or entry.score > front[-1].score:
            front.append(entry)
    return front


def viewer_members(rows: Sequence[LeaderboardRow], username: str) -> frozenset[str]:
    """The usernames of the reader's row: themselves, or all their team. Empty when
    the reader has no row (a teacher, a student yet to score)."""
    for row in rows:
        if username and username in row.members:
            return frozenset(row.members)
    return frozenset()


def _hover(unit: str, value: str) -> str:
    return f"<b>%{{text}}</b><br>{unit} %{{y:.4g}}<br>{value}<extra>%{{fullData.name}}</extra>"


def _entries(rows: Sequence[LeaderboardRow], score_field: str) -> list[Entry]:
    return [
        Entry(row.participant, row.cpu_seconds, score, frozenset(row.members))
        for row in rows
        if row.cpu_seconds is not None and (score := getattr(row, score_field)) is not None
    ]


def score_cost_chart(rows: Sequence[LeaderboardRow], score_field: str, metric: str) -> Chart:
    """The chart as every reader sees it (with_reader adds their own point)."""
    score_name = score_field.replace("_", " ")
    label = f"{score_name.capitalize()} against CPU time, the Pareto front marked"
    entries = _entries(rows, score_field)
    if not entries:
        return empty_chart("score-cost-chart", label, NO_SCORE)
    front = pareto_front(entries)
    others = [e for e in entries if e not in front]
    hover = _hover(score_name, "CPU %{x:.3g} s")
    traces = [
        _cost_trace(
            "other participants", others, hover, mode="markers", marker={"color": GREY, "size": 9}
        ),
        _cost_trace(
            "Pareto front",
            front,
            hover,
            mode="lines+markers",
            line={"color": BLUE, "dash": "dash", "shape": "hv"},
            marker={"color": BLUE, "size": 11},
        ),
    ]
    return plain_chart(
        "score-cost-chart",
        label,
        traces,
        # Short titles: a phone's chart is 300 px wide.
        axis("CPU time (s, all folds)", rangemode="tozero"),
        axis(f"{score_name} ({metric})"),
    )


def _cost_trace(name: str, chosen: Sequence[Entry], hover: str, **style: object) -> dict[str, Any]:
    return scatter(
        name,
        [e.cost for e in chosen],
        [e.score for e in chosen],
        [escaped(e.label) for e in chosen],
        hovertemplate=hover,
        **style,
    )


def score_cost_you(
    rows: Sequence[LeaderboardRow], score_field: str, mine: frozenset[str]
) -> dict[str, Any] | None:
    """The reader's own point, a star over the chart; None when they have none."""
    if not mine:
        return None
    own = [e for e in _entries(rows, score_field) if mine & e.members]
    if not own:
        return None
    hover = _hover(score_field.replace("_", " "), "CPU %{x:.3g} s")
    star = {"color": ORANGE, "size": 18, "symbol": "star", "line": {"color": "#1f2933", "width": 1}}
    return _cost_trace(YOU, own, hover, mode="markers", marker=star)


def with_reader(base: Chart, you: dict[str, Any] | None) -> Chart:
    """A copy of `base` with the reader's own trace drawn last (on top): added to
    the cached chart's text, not parsed and written again per request."""
    return with_trace(base, you)


def _times(points: Sequence[ScoredPoint]) -> list[str]:
    """The points' times in the current time zone, as plotly's date axis reads them
    (the zone looked up once, not once a point as timezone.localtime does)."""
    zone = timezone.get_current_timezone()
    return [p.created_at.astimezone(zone).strftime("%Y-%m-%d %H:%M:%S") for p in points]


HISTORY_HOVER = _hover("public score", "%{x|%Y-%m-%d %H:%M}")


def _history_trace(
    name: str, chosen: Sequence[ScoredPoint], when: list[str] | None = None, **style: object
) -> dict[str, Any]:
    return scatter(
        name,
        when if when is not None else _times(chosen),
        [p.public_score for p in chosen],
        [escaped(p.participant) for p in chosen],
        hovertemplate=HISTORY_HOVER,
        **style,
    )


def score_history_chart(points: Sequence[ScoredPoint], metric: str) -> Chart:
    """The chart as every reader sees it (with_reader adds their own improvements)."""
    label = "Each participant's improvements of their public score over time, the best so far"
    if not points:
        return empty_chart("score-history-chart", label, NO_SCORE)
    zone = timezone.get_current_timezone_name()
    when = _times(points)
    # The best so far is a step line ("hv"): drawn through the points where it rose
    # and the last one, it is the same line as through every point (a thousand
    # points fewer in the page at 300 students, and as many hover labels saying
    # the same thing).
    rises: list[int] = []
    for index, point in enumerate(points):
        if not rises or point.public_score > points[rises[-1]].public_score:
            rises.append(index)
    best = [points[index] for index in rises]
    times = [when[index] for index in rises]
    if rises[-1] != len(points) - 1:
        # Carried on to the last point, at the best score.
        best.append(best[-1])
        times.append(when[-1])
    traces = [
        _history_trace(
            "improvements", points, when, mode="markers", marker={"color": GREY, "size": 8}
        ),
        scatter(
            "best so far",
            times,
            [point.public_score for point in best],
            [escaped(point.participant) for point in best],
            mode="lines",
            line={"color": GREEN, "width": 3, "shape": "hv"},
            hovertemplate="best so far %{y:.4g} (%{text})<br>%{x|%Y-%m-%d %H:%M}<extra></extra>",
        ),
    ]
    return plain_chart(
        "score-history-chart",
        label,
        traces,
        axis(f"submitted at ({zone})", type="date"),
        axis(f"public score ({metric})"),
    )


def score_history_you(points: Sequence[ScoredPoint], mine: frozenset[str]) -> dict[str, Any] | None:
    """The reader's own improvements, stars over the chart; None when they have none."""
    if not mine:
        return None
    own = [p for p in points if p.participant in mine]
    if not own:
        return None
    return _history_trace(
        YOU,
        own,
        mode="lines+markers",
        line={"color": ORANGE, "dash": "dot", "shape": "hv"},
        marker={"color": ORANGE, "size": 14, "symbol": "star"},
    )
