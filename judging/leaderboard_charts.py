"""The leaderboard's charts (plotly figures, foundation/charts.py): score against
CPU time with the Pareto front, and each participant's improvements over time
with the best so far. The reader's own row (theirs, or their team's) is drawn
apart, as the trace named "you", in both.

Built per reader from the cached leaderboard and points: a figure costs about
3 ms once plotly is imported (the first one in a process about 130 ms).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import plotly.graph_objects as go
from django.utils import timezone

from foundation.charts import (
    BLUE,
    GREEN,
    GREY,
    ORANGE,
    Chart,
    axis,
    chart,
    empty_chart,
    escaped,
    figure,
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
    mine: bool = False


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


def score_cost_chart(
    rows: Sequence[LeaderboardRow], score_field: str, metric: str, mine: frozenset[str]
) -> Chart:
    score_name = score_field.replace("_", " ")
    label = f"{score_name.capitalize()} against CPU time, the Pareto front marked"
    entries = [
        Entry(row.participant, row.cpu_seconds, score, bool(mine & set(row.members)))
        for row in rows
        if row.cpu_seconds is not None and (score := getattr(row, score_field)) is not None
    ]
    if not entries:
        return empty_chart("score-cost-chart", label, NO_SCORE)
    front = pareto_front(entries)
    others = [e for e in entries if e not in front and not e.mine]
    own = [e for e in entries if e.mine]
    hover = _hover(score_name, "CPU %{x:.3g} s")

    def trace(name: str, chosen: Sequence[Entry], **style: object) -> go.Scatter:
        return go.Scatter(
            name=name,
            x=[e.cost for e in chosen],
            y=[e.score for e in chosen],
            text=[escaped(e.label) for e in chosen],
            hovertemplate=hover,
            **style,
        )

    traces = [
        trace("other participants", others, mode="markers", marker={"color": GREY, "size": 9}),
        trace(
            "Pareto front",
            front,
            mode="lines+markers",
            line={"color": BLUE, "dash": "dash", "shape": "hv"},
            marker={"color": BLUE, "size": 11},
        ),
    ]
    if own:
        traces.append(
            trace(
                YOU,
                own,
                mode="markers",
                marker={
                    "color": ORANGE,
                    "size": 18,
                    "symbol": "star",
                    "line": {"color": "#1f2933", "width": 1},
                },
            )
        )
    fig = figure(
        traces,
        # Short titles: a phone's chart is 300 px wide.
        axis("CPU time (s, all folds)", rangemode="tozero"),
        axis(f"{score_name} ({metric})"),
    )
    return chart("score-cost-chart", label, fig)


def score_history_chart(points: Sequence[ScoredPoint], metric: str, mine: frozenset[str]) -> Chart:
    label = "Each participant's improvements of their public score over time, the best so far"
    if not points:
        return empty_chart("score-history-chart", label, NO_SCORE)
    zone = timezone.get_current_timezone_name()

    def when(point: ScoredPoint) -> str:
        return timezone.localtime(point.created_at).strftime("%Y-%m-%d %H:%M:%S")

    best: list[float] = []
    holders: list[str] = []  # whose score the best so far is
    for point in points:
        if not best or point.public_score > best[-1]:
            best.append(point.public_score)
            holders.append(escaped(point.participant))
        else:
            best.append(best[-1])
            holders.append(holders[-1])
    hover = _hover("public score", "%{x|%Y-%m-%d %H:%M}")

    def trace(name: str, chosen: Sequence[ScoredPoint], **style: object) -> go.Scatter:
        return go.Scatter(
            name=name,
            x=[when(p) for p in chosen],
            y=[p.public_score for p in chosen],
            text=[escaped(p.participant) for p in chosen],
            hovertemplate=hover,
            **style,
        )

    traces = [
        trace(
            "improvements",
            [p for p in points if p.participant not in mine],
            mode="markers",
            marker={"color": GREY, "size": 8},
        ),
        go.Scatter(
            name="best so far",
            x=[when(p) for p in points],
            y=best,
            text=holders,
            mode="lines",
            line={"color": GREEN, "width": 3, "shape": "hv"},
            hovertemplate="best so far %{y:.4g} (%{text})<br>%{x|%Y-%m-%d %H:%M}<extra></extra>",
        ),
    ]
    own = [p for p in points if p.participant in mine]
    if own:
        traces.append(
            trace(
                YOU,
                own,
                mode="lines+markers",
                line={"color": ORANGE, "dash": "dot", "shape": "hv"},
                marker={"color": ORANGE, "size": 14, "symbol": "star"},
            )
        )
    fig = figure(
        traces,
        axis(f"submitted at ({zone})", type="date"),
        axis(f"public score ({metric})"),
    )
    return chart("score-history-chart", label, fig)
