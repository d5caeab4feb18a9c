"""What the leaderboard page and its polled fragment show: the ranking table with
the reader's own row marked, and the two charts with the reader's own points.

Near a deadline a whole class has the page open and each copy polls every few
seconds, so what is the same for every reader (the table's HTML, the charts'
figures) is built once per version of what it shows and cached; only the marking
of the reader's row and points is done per request, on the cached text.

The rendered text is cached under a digest of everything it shows (the rows, the
chart's points, the columns, the time zone): a change of any of them is a new
key, so it is never stale and is kept whatever PPIPE_LEADERBOARD_CACHE_SECONDS
says. That setting bounds how old the ranking itself may be; with 0 every request
reads the ranking and the points again, and renders only what it has not
rendered before.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

from challenges.models import Challenge
from foundation.charts import Chart
from foundation.live_fragments import fragment_version
from judging.leaderboard import (
    ENDPOINT_COLUMNS,
    SORTABLE,
    Leaderboard,
    ScoredPoint,
    leaderboard_cache,
    leaderboard_cached,
    leaderboard_points,
    leaderboard_rendered,
    points_kept,
    points_version,
)
from judging.leaderboard_charts import (
    score_cost_chart,
    score_cost_you,
    score_history_chart,
    score_history_you,
    viewer_members,
    with_reader,
)
from judging.leaderboard_table import leaderboard_table

HEADERS = {
    "rank": "Rank",
    "participant": "Participant",
    "public_score": "Public score",
    "private_score": "Private score",
    "cv_mean": "CV mean ± std",
    "cpu_seconds": "CPU s",
    "peak_memory_mb": "Peak MB",
    "fit_seconds": "Train s",
    "contributivity": "Contributivity %",
    "submissions": "Submissions",
    "last_submission_at": "Last submission",
    "endpoint_uptime": "Uptime",
    "endpoint_p95_ms": "p95 ms",
    "endpoint_sla": "SLA met",
    "endpoint_score": "Live score",
    "endpoint_releases_behind": "Releases behind",
    "receipt_score": "Receipt",
}


def _headers(order: str, board: Leaderboard) -> list[dict[str, str]]:
    """Column headers as sort links: a click sorts by the column, a second reverses."""
    headers = []
    for column in SORTABLE:
        if column == "private_score" and not board.final:
            continue
        if column in ENDPOINT_COLUMNS and not board.has_endpoints:
            continue
        if column == "receipt_score" and not board.has_receipts:
            continue
        arrow = " ▲" if order == column else " ▼" if order == f"-{column}" else ""
        headers.append(
            {
                "column": column,
                "label": HEADERS[column],
                "next_order": f"-{column}" if order == column else column,
                "arrow": arrow,
            }
        )
    return headers


def _board_live(challenge: Challenge, board: Leaderboard) -> bool:
    """While the challenge is open its ranking can move; once closed it is final."""
    return challenge.status == "open" and not board.final


def marked_rows(table: str, labels: list[str]) -> SafeString:
    """The cached table with the reader's row(s) given the class `me`."""
    for label in labels:
        row = f'<tr data-participant="{escape(label)}">'
        table = table.replace(row, f'<tr data-participant="{escape(label)}" class="me">', 1)
    # The cached table was rendered with autoescaping; the marks are escaped too.
    return mark_safe(table)  # noqa: S308


def _history(challenge: Challenge, zone: str) -> tuple[list[ScoredPoint], Chart]:
    """The history chart's points and the chart every reader sees. Where the points
    are kept (PostgreSQL), both are cached under the kept points' version and read
    only when it is new; elsewhere the points are computed (at most once per
    PPIPE_LEADERBOARD_CACHE_SECONDS) and the chart cached under their digest."""

    def draw(points: list[ScoredPoint]) -> tuple[list[ScoredPoint], Chart]:
        return points, score_history_chart(points, challenge.metric)

    version = points_version(challenge)
    if version is not None:
        return leaderboard_rendered(
            f"ppipe:leaderboard-history:{challenge.pk}:{version}:{challenge.metric}:{zone}",
            lambda: draw(points_kept(challenge)),
        )
    points = leaderboard_cache(
        f"ppipe:leaderboard-points:{challenge.pk}", lambda: leaderboard_points(challenge)
    )
    digest = fragment_version([tuple(point) for point in points], challenge.metric, zone)
    return leaderboard_rendered(
        f"ppipe:leaderboard-history:{challenge.pk}:{digest}", lambda: draw(points)
    )


def board_context(
    challenge: Challenge, reader: AbstractBaseUser | AnonymousUser, order: str
) -> dict[str, object]:
    """The ranking as this reader sees it, and the version a poll compares; the
    table and the charts are added by with_table_and_charts, only when the page or
    the fragment is rendered (a poll finding nothing new needs neither)."""
    board = leaderboard_cached(challenge, order=order)
    mine = viewer_members(board.rows, reader.get_username())
    version = board.version
    return {
        "challenge": challenge,
        "board": board,
        "order": order,
        "mine": mine,
        "rows_version": version,
        "live": _board_live(challenge, board),
        "version": fragment_version(version, order, sorted(mine)),
    }


def with_table_and_charts(context: dict[str, object]) -> dict[str, object]:
    board, mine, order = context["board"], context["mine"], str(context["order"])
    assert isinstance(board, Leaderboard)
    assert isinstance(mine, frozenset)
    challenge = board.challenge
    zone = timezone.get_current_timezone_name()
    shown = fragment_version(context["rows_version"], board.has_receipts, challenge.metric, zone)
    table = leaderboard_rendered(
        f"ppipe:leaderboard-table:{challenge.pk}:{shown}:{order}",
        lambda: leaderboard_table(board, _headers(order, board)),
    )
    labels = [row.participant for row in board.rows if mine & set(row.members)]
    cost = leaderboard_rendered(
        f"ppipe:leaderboard-cost-chart:{challenge.pk}:{shown}",
        lambda: score_cost_chart(board.rows, board.score_field, challenge.metric),
    )
    points, history = _history(challenge, zone)
    charts = {
        "score_cost": with_reader(cost, score_cost_you(board.rows, board.score_field, mine)),
        "score_history": with_reader(history, score_history_you(points, mine)),
    }
    return {**context, "table": marked_rows(table, labels), "charts": charts}
