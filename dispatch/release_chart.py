"""The timeline of a challenge's releases (a plotly chart, foundation/charts.py):
one mark per transaction, at its due time on its destination's row, coloured by
state, so a teacher sees at a glance what went out; and the table of what a
draft's releases would hold."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from dispatch.models import Release, TransactionState
from dispatch.release_preview import PreviewedRelease, ReleasePreview
from foundation.charts import (
    AMBER,
    BLUE,
    GREEN,
    GREY,
    HEIGHT,
    RED,
    SLATE,
    Chart,
    axis,
    empty_chart,
    escaped,
    plain_chart,
    scatter,
)

COLOURS = {
    TransactionState.PLANNED: GREY,
    TransactionState.QUEUED: AMBER,
    TransactionState.RUNNING: BLUE,
    TransactionState.DONE: GREEN,
    TransactionState.FAILED: RED,
    TransactionState.CANCELLED: SLATE,
}
LABEL = "Release timeline: each release's transactions by destination, coloured by state"
NOTHING_PLANNED = "No releases planned: choose destinations and publish."
# A row per destination, readable at a class's 200 student folders.
ROW_HEIGHT, FRAME_HEIGHT = 22, 140


def timeline_chart(releases: Sequence[Release]) -> Chart:
    transactions = [tx for release in releases for tx in release.transactions.all()]
    if not transactions:
        return empty_chart("release-timeline", LABEL, NOTHING_PLANNED)
    zone = timezone.get_current_timezone()
    # One trace per state, in the lifecycle's order: the legend is the key to colours.
    traces = [
        scatter(
            str(state.label),
            [f"{tx.release.due_at.astimezone(zone):%Y-%m-%d %H:%M:%S}" for tx in chosen],
            [escaped(tx.destination.name) for tx in chosen],
            [f"release {tx.release.sequence}" for tx in chosen],
            mode="markers",
            marker={"color": colour, "size": 12},
            hovertemplate="<b>%{text}</b> → %{y}<br>due %{x|%Y-%m-%d %H:%M:%S}"
            "<extra>%{fullData.name}</extra>",
        )
        for state, colour in COLOURS.items()
        if (chosen := [tx for tx in transactions if tx.state == state])
    ]
    destinations = len({tx.destination_id for tx in transactions})
    return plain_chart(
        "release-timeline",
        LABEL,
        traces,
        axis(f"due ({timezone.get_current_timezone_name()})", type="date"),
        axis("destination", type="category", categoryorder="category ascending"),
        height=max(HEIGHT, FRAME_HEIGHT + ROW_HEIGHT * destinations),
        # plotly hides the legend of a single trace, but it is the key to the colours.
        showlegend=True,
    )


def _duration(span: timedelta) -> str:
    seconds = int(span.total_seconds())
    parts = []
    for name, size in (("day", 86400), ("h", 3600), ("min", 60), ("s", 1)):
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count} {name}{'s' if name == 'day' and count > 1 else ''}")
    return " ".join(parts)


def _when(release: PreviewedRelease) -> str:
    if release.due_at is not None:
        return f"{release.due_at:%Y-%m-%d %H:%M %Z}"
    if release.sequence == 1:
        return "on publishing"
    return f"on publishing + {_duration(release.after_publishing)}"


def preview_table(preview: ReleasePreview) -> SafeString:
    """Each release's number, time, rows and class counts; a warning above it for the
    releases that would lack a class."""
    note = "Computed from the saved challenge and release plan: save to see a change here."
    if preview.problem:
        return format_html('<p>{}</p><p class="help">{}</p>', preview.problem, note)
    warnings = format_html_join(
        "",
        '<li class="warning">Release {} would hold no {}.</li>',
        ((r.sequence, ", no ".join(r.missing)) for r in preview.starved),
    )
    if preview.starved:
        warnings = format_html(
            '<ul class="messagelist">{}</ul><p>{}</p>',
            warnings,
            "Choose the shuffled release order, or fewer releases, so that each holds every class.",
        )
    header = format_html_join("", "<th>{}</th>", ((name,) for name in preview.classes))
    rows = format_html_join(
        "",
        "<tr><td>{}</td><td>{}</td><td>{}</td>{}</tr>",
        (
            (
                r.sequence,
                _when(r),
                r.rows,
                format_html_join(
                    "", "<td>{}</td>", ((r.class_counts[name],) for name in preview.classes)
                ),
            )
            for r in preview.releases
        ),
    )
    return format_html(
        '{}<table class="release-preview"><thead><tr><th>release</th><th>due</th>'
        "<th>rows</th>{}</tr></thead><tbody>{}</tbody></table>"
        '<p class="help">{}</p>',
        warnings,
        header,
        rows,
        note,
    )
