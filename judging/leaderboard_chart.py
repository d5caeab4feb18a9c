"""SVG charts for the leaderboard page: score against CPU time (cost) with the
Pareto front marked, and scores over time with the best so far.

Plain SVG built with Django's escaping helpers: no JavaScript, readable in any
browser and in tests, and the participants' names are escaped like any text.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from foundation.svg_chart import BOTTOM, HEIGHT, LEFT, RIGHT, TOP, WIDTH, axes, scale, svg
from judging.leaderboard import LeaderboardRow, ScoredPoint

FRONT, OTHER, LINE = "#2186eb", "#9aa5b1", "#3ebd93"


@dataclass(frozen=True)
class Entry:
    """A point on the score/cost chart."""

    label: str
    cost: float
    score: float


def pareto_front(entries: Sequence[Entry]) -> list[Entry]:
    """The entries no other entry beats on both axes (higher score for no more CPU),
    cheapest first."""
    front: list[Entry] = []
    for entry in sorted(entries, key=lambda e: (e.cost, -e.score)):
        if not front or entry.score > front[-1].score:
            front.append(entry)
    return front


def score_cost_chart(rows: Sequence[LeaderboardRow], score_field: str) -> SafeString:
    entries = [
        Entry(row.participant, row.cpu_seconds, score)
        for row in rows
        if row.cpu_seconds is not None and (score := getattr(row, score_field)) is not None
    ]
    if not entries:
        return format_html("<p>{}</p>", "No scored submission yet.")
    front = pareto_front(entries)
    on_front = {id(entry) for entry in front}
    costs, scores = [e.cost for e in entries], [e.score for e in entries]
    x = scale(0.0, max(costs) * 1.05, LEFT, WIDTH - RIGHT)
    y = scale(min(scores), max(scores), HEIGHT - BOTTOM, TOP + 8)
    path = " ".join(f"{x(e.cost):.1f},{y(e.score):.1f}" for e in front)
    # format_html escapes its arguments before formatting: numbers go in as text.
    dots = format_html_join(
        "",
        '<circle cx="{}" cy="{}" r="{}" fill="{}" class="{}">'
        "<title>{}: score {}, {} s CPU</title></circle>",
        (
            (
                f"{x(e.cost):.1f}",
                f"{y(e.score):.1f}",
                6 if id(e) in on_front else 4,
                FRONT if id(e) in on_front else OTHER,
                "front" if id(e) in on_front else "point",
                e.label,
                f"{e.score:.4g}",
                f"{e.cost:.2f}",
            )
            for e in entries
        ),
    )
    body = format_html(
        '{}<polyline points="{}" fill="none" stroke="{}" stroke-dasharray="4 3"/>{}',
        axes(
            "CPU seconds (train and test, all folds)",
            score_field.replace("_", " "),
            min(scores),
            max(scores),
        ),
        path,
        FRONT,
        dots,
    )
    return svg("Score against CPU time; the Pareto front in blue", body)


def score_history_chart(points: Sequence[ScoredPoint]) -> SafeString:
    if not points:
        return format_html("<p>{}</p>", "No scored submission yet.")
    start, end = points[0].created_at.timestamp(), points[-1].created_at.timestamp()
    scores = [p.public_score for p in points]
    x = scale(start, end, LEFT, WIDTH - RIGHT)
    y = scale(min(scores), max(scores), HEIGHT - BOTTOM, TOP + 8)
    best: list[str] = []
    top = float("-inf")
    for point in points:
        top = max(top, point.public_score)
        best.append(f"{x(point.created_at.timestamp()):.1f},{y(top):.1f}")
    dots = format_html_join(
        "",
        '<circle cx="{}" cy="{}" r="3" fill="{}"><title>{}: {} at {}</title></circle>',
        (
            (
                f"{x(p.created_at.timestamp()):.1f}",
                f"{y(p.public_score):.1f}",
                OTHER,
                p.participant,
                f"{p.public_score:.4g}",
                f"{p.created_at:%Y-%m-%d %H:%M}",
            )
            for p in points
        ),
    )
    body = format_html(
        '{}{}<polyline points="{}" fill="none" stroke="{}" stroke-width="2" class="best"/>',
        axes("submitted at", "public score", min(scores), max(scores)),
        dots,
        " ".join(best),
        LINE,
    )
    return svg("Each participant's improvements over time; the best so far in green", body)
