"""The leaderboard's table as HTML, built in Python.

Why not a template: with 300 rows of 12 cells, Django's template engine (a
variable lookup and a `floatformat`, through Decimal, per cell) took three
quarters of an uncached page's time in a profile at 10,000 submissions; the same
text from format strings takes a few milliseconds. What the template filters did
is kept: empty cells for missing values, every name escaped, times in the
current time zone. Numbers are rounded by Python's formatting (the binary value,
half to even), where `floatformat` rounded the decimal text half up: they can
differ in the last digit on an exact tie.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from django.utils import timezone
from django.utils.html import escape

from judging.leaderboard import Leaderboard, LeaderboardRow

NO_RANK = "\N{EN DASH}"


def _number(value: float | None, places: int) -> str:
    if value is None:
        return ""
    text = f"{value:.{places}f}"
    # floatformat never showed a minus sign on a value that rounds to zero.
    return text[1:] if text.startswith("-") and not text.strip("-0.") else text


def _percent(value: float | None) -> str:
    return "" if value is None else f"{round(value * 100)} %"


def _when(value: datetime | None) -> str:
    return "" if value is None else timezone.localtime(value).strftime("%Y-%m-%d %H:%M")


def _participant(row: LeaderboardRow) -> str:
    note = (
        ' <span class="note">(selected)</span>'
        if row.selected
        else ' <span class="note">(promoted)</span>'
        if row.promoted
        else ""
    )
    if row.built_on is not None:
        note += (
            f' <span class="note lineage">built on #{row.built_on}'
            f" by {escape(row.built_on_author)}</span>"
        )
    return f"{escape(row.participant)}{note}"


def _contributivity(row: LeaderboardRow) -> str:
    shown = _number(row.contributivity, 1)
    if row.fork_credit is not None:
        shown += f' <span class="note credit">+{_number(row.fork_credit, 1)} credit</span>'
    return shown


def _cells(row: LeaderboardRow, board: Leaderboard) -> list[tuple[str, str]]:
    """(class, content) of each cell, in the order of the headers."""
    num = "num"
    cells = [
        (num, NO_RANK if row.rank is None else str(row.rank)),
        ("", _participant(row)),
        (num, _number(row.public_score, 4)),
    ]
    if board.final:
        cells.append((num, _number(row.private_score, 4)))
    spread = (
        f"{_number(row.cv_mean, 3)} ± {_number(row.cv_std, 3)}" if row.cv_mean is not None else ""
    )
    cells += [
        (num, spread),
        (num, _number(row.cpu_seconds, 2)),
        (num, _number(row.peak_memory_mb, 0)),
        (num, _number(row.fit_seconds, 2)),
        ("num contributivity", _contributivity(row)),
        (num, str(row.submissions)),
        (num, _when(row.last_submission_at)),
    ]
    if board.has_endpoints:
        behind = row.endpoint_releases_behind
        cells += [
            (num, _percent(row.endpoint_uptime)),
            (num, _number(row.endpoint_p95_ms, 0)),
            (num, _percent(row.endpoint_sla)),
            (num, _number(row.endpoint_score, 4)),
            (num, "" if behind is None else str(behind)),
        ]
    if board.has_receipts:
        cells.append((num, _percent(row.receipt_score)))
    return cells


def _row(row: LeaderboardRow, board: Leaderboard) -> str:
    # leaderboard_page.marked_rows finds the reader's row by this exact opening tag.
    cells = "".join(
        f'<td class="{css}">{content}</td>' if css else f"<td>{content}</td>"
        for css, content in _cells(row, board)
    )
    return f'<tr data-participant="{escape(row.participant)}">{cells}</tr>\n'


NUM_CLASS = ' class="num"'


def leaderboard_table(board: Leaderboard, headers: Sequence[dict[str, str]]) -> str:
    """The table of the whole ranking (no reader marked: the page marks theirs)."""
    heads = "".join(
        f"<th{'' if h['column'] == 'participant' else NUM_CLASS}>"
        f'<a href="?order={escape(h["next_order"])}">{escape(h["label"])}</a>{h["arrow"]}</th>'
        for h in headers
    )
    body = "".join(_row(row, board) for row in board.rows) or (
        f'<tr><td colspan="{len(headers)}">No submission yet.</td></tr>\n'
    )
    return (
        f'<table id="leaderboard">\n<thead><tr>{heads}</tr></thead>\n'
        f"<tbody>\n{body}</tbody>\n</table>\n"
    )
