"""Which due transactions travel together in one message to a dispatch worker."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import groupby

from dispatch.models import Transaction


def batches(due: list[Transaction], *, size: int) -> Iterator[list[Transaction]]:
    """The due transactions in batches of at most `size`: those reading the same
    training data together (one challenge's releases, to all its destinations and
    student folders), in the order of its releases and destinations, so that a
    release's bytes are serialised once by the worker that gets them and a
    destination's files go in one rclone call. The oldest due go first."""
    first_due: dict[int, int] = {}
    for position, row in enumerate(due):
        first_due.setdefault(row.release.challenge_id, position)
    ordered = sorted(
        due,
        key=lambda row: (
            first_due[row.release.challenge_id],
            row.release.sequence,
            row.destination_id,
            row.participant_id or 0,
            row.id,
        ),
    )
    for _challenge, rows in groupby(ordered, key=lambda row: row.release.challenge_id):
        group = list(rows)
        for start in range(0, len(group), size):
            yield group[start : start + size]
