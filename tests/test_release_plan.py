"""The release schedule follows the teacher's proportions, interval and mode."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from dispatch.planning import PlanError, parse_proportions, plan_releases

START = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def plan(**overrides: object) -> list:  # type: ignore[type-arg]
    arguments: dict[str, object] = {
        "total_rows": 100,
        "proportions": [40, 20, 20, 20],
        "rows_per_release": None,
        "first_release_at": START,
        "interval": timedelta(hours=1),
        "cumulative": False,
        "destination_ids": [1, 2],
        "destinations_per_release": None,
        "seed": 3,
    }
    arguments.update(overrides)
    return plan_releases(**arguments)  # type: ignore[arg-type]


def test_proportions_become_consecutive_row_ranges_an_interval_apart() -> None:
    releases = plan()

    assert [(r.row_start, r.row_stop) for r in releases] == [(0, 40), (40, 60), (60, 80), (80, 100)]
    assert [r.due_at for r in releases] == [START + timedelta(hours=h) for h in range(4)]
    assert all(r.destination_ids == (1, 2) for r in releases)


def test_cumulative_files_hold_every_row_so_far() -> None:
    assert [(r.row_start, r.row_stop) for r in plan(cumulative=True)] == [
        (0, 40),
        (0, 60),
        (0, 80),
        (0, 100),
    ]


def test_equal_parts_and_rows_per_release() -> None:
    assert parse_proportions("4") == [1.0, 1.0, 1.0, 1.0]
    by_rows = plan(proportions=None, rows_per_release=30)
    assert [(r.row_start, r.row_stop) for r in by_rows] == [(0, 30), (30, 60), (60, 90), (90, 100)]


def test_a_random_subset_of_destinations_is_the_same_for_the_same_seed() -> None:
    first = plan(destination_ids=[1, 2, 3, 4, 5], destinations_per_release=2, seed=9)
    again = plan(destination_ids=[1, 2, 3, 4, 5], destinations_per_release=2, seed=9)

    assert [r.destination_ids for r in first] == [r.destination_ids for r in again]
    assert all(len(r.destination_ids) == 2 for r in first)
    assert len({r.destination_ids for r in first}) > 1


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("40,abc", "not a list of numbers"),
        ("40,0,60", "greater than 0"),
        ("2.5", "whole number"),
        ("", "Give"),
    ],
)
def test_bad_proportions_say_what_to_write(text: str, message: str) -> None:
    with pytest.raises(PlanError, match=message):
        parse_proportions(text)


def test_more_releases_than_rows_is_refused() -> None:
    with pytest.raises(PlanError, match="would leave a release empty"):
        plan(total_rows=3, proportions=[1.0] * 5)
