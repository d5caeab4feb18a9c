"""An SVG timeline of a challenge's releases: one mark per transaction, placed at
its due time and coloured by state, so a teacher sees at a glance what went out;
and the table of what a draft's releases would hold."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from dispatch.models import Release
from dispatch.release_preview import PreviewedRelease, ReleasePreview

COLOURS = {
    "planned": "#9aa5b1",
    "queued": "#f0b429",
    "running": "#2186eb",
    "done": "#3ebd93",
    "failed": "#e12d39",
    "cancelled": "#52606d",
}
WIDTH, ROW, LEFT, RIGHT = 760, 22, 140, 20


def timeline_chart(releases: Sequence[Release]) -> SafeString:
    transactions = [tx for release in releases for tx in release.transactions.all()]
    if not transactions:
        return format_html("<p>{}</p>", "No releases planned: choose destinations and publish.")
    destinations = sorted({tx.destination.name for tx in transactions})
    start = min(release.due_at for release in releases).timestamp()
    span = max(max(release.due_at for release in releases).timestamp() - start, 1.0)
    height = ROW * len(destinations) + 30

    def x(release: Release) -> float:
        return LEFT + (WIDTH - LEFT - RIGHT) * (release.due_at.timestamp() - start) / span

    labels = format_html_join(
        "",
        '<text x="{}" y="{}" font-size="12" text-anchor="end">{}</text>',
        ((LEFT - 8, ROW * i + 19, name) for i, name in enumerate(destinations)),
    )
    marks = format_html_join(
        "",
        '<circle cx="{}" cy="{}" r="7" fill="{}"><title>release {} → {}: {}</title></circle>',
        (
            (
                f"{x(tx.release):.1f}",
                ROW * destinations.index(tx.destination.name) + 15,
                COLOURS.get(tx.state, "#000"),
                tx.release.sequence,
                tx.destination.name,
                tx.state,
            )
            for tx in transactions
        ),
    )
    legend = format_html_join(
        "",
        '<circle cx="{}" cy="{}" r="5" fill="{}"/><text x="{}" y="{}" font-size="11">{}</text>',
        (
            (LEFT + i * 95, height - 8, colour, LEFT + i * 95 + 9, height - 4, state)
            for i, (state, colour) in enumerate(COLOURS.items())
        ),
    )
    return format_html(
        '<svg role="img" aria-label="release timeline" width="{}" height="{}" '
        'xmlns="http://www.w3.org/2000/svg">{}{}{}</svg>',
        WIDTH,
        height,
        labels,
        marks,
        legend,
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
