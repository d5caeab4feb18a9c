"""The release schedule of a challenge, as pure functions of its settings."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta


class PlanError(ValueError):
    """The release settings do not describe a schedule; the message says why."""


@dataclass(frozen=True)
class PlannedRelease:
    sequence: int
    due_at: datetime
    row_start: int
    row_stop: int
    destination_ids: tuple[int, ...]


def parse_proportions(text: str) -> list[float]:
    """`40,20,20,20` (weights, any scale) or `4` (four equal parts)."""
    parts = [part.strip() for part in text.replace("/", ",").split(",") if part.strip()]
    if not parts:
        raise PlanError(
            "Give release proportions such as 40,20,20,20, or a number of equal parts such as 4."
        )
    try:
        numbers = [float(part) for part in parts]
    except ValueError:
        raise PlanError(
            f"'{text}' is not a list of numbers: write e.g. 40,20,20,20 or 4."
        ) from None
    if len(numbers) == 1:
        count = numbers[0]
        if count != int(count) or not 1 <= count <= 1000:
            raise PlanError(
                "A single number means that many equal releases: use a whole number from 1 to 1000."
            )
        return [1.0] * int(count)
    if any(number <= 0 for number in numbers):
        raise PlanError("Every release proportion must be greater than 0.")
    return numbers


def row_boundaries(
    total_rows: int, *, proportions: list[float] | None, rows_per_release: int | None
) -> list[int]:
    """Cumulative row counts at the end of each release; the last is total_rows."""
    if rows_per_release:
        stops = [*list(range(rows_per_release, total_rows, rows_per_release)), total_rows]
    else:
        weights = proportions or [1.0]
        total_weight = sum(weights)
        running = 0.0
        stops = []
        for weight in weights:
            running += weight
            stops.append(round(total_rows * running / total_weight))
        stops[-1] = total_rows
    if len(set(stops)) != len(stops) or stops[0] == 0:
        raise PlanError(
            f"{len(stops)} releases of {total_rows} training rows would leave a release empty: "
            "use fewer releases."
        )
    return stops


def plan_releases(
    *,
    total_rows: int,
    proportions: list[float] | None,
    rows_per_release: int | None,
    first_release_at: datetime,
    interval: timedelta,
    cumulative: bool,
    destination_ids: list[int],
    destinations_per_release: int | None,
    seed: int,
) -> list[PlannedRelease]:
    """Releases in order. With destinations_per_release, each release goes to a
    random subset of that size, the same for the same seed."""
    stops = row_boundaries(total_rows, proportions=proportions, rows_per_release=rows_per_release)
    chooser = random.Random(seed)  # noqa: S311 - a reproducible plan, not a secret
    releases = []
    start = 0
    for index, stop in enumerate(stops):
        targets = sorted(destination_ids)
        if destinations_per_release and destinations_per_release < len(targets):
            targets = sorted(chooser.sample(targets, destinations_per_release))
        releases.append(
            PlannedRelease(
                sequence=index + 1,
                due_at=first_release_at + index * interval,
                row_start=0 if cumulative else start,
                row_stop=stop,
                destination_ids=tuple(targets),
            )
        )
        start = stop
    return releases
