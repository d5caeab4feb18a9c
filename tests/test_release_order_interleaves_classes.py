"""The shuffled release order (challenges/release_order.py): a target sorted by class
comes out interleaved, each class at its share of the rows so far within one row at
every point, so each release holds every class; the same seed gives the same order,
another seed another; regression targets are shuffled; the file's order is kept."""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd

from challenges.release_order import FILE, SHUFFLED, release_order

# The wine dataset's classes, sorted as its file has them.
WINE = pd.Series(["barolo"] * 59 + ["grignolino"] * 71 + ["barbera"] * 48)


def _ordered(target: pd.Series, seed: int = 3) -> pd.Series:
    return target.iloc[release_order(target, order=SHUFFLED, stratify=True, seed=seed)]


def test_every_point_of_the_order_holds_each_class_within_one_row_of_its_share() -> None:
    ordered = _ordered(WINE).to_numpy()
    shares = WINE.value_counts(normalize=True)

    for rows in range(1, len(ordered) + 1):
        for name, share in shares.items():
            assert abs((ordered[:rows] == name).sum() - rows * share) < 1, (rows, name)


def test_each_of_ten_releases_holds_every_class_within_two_rows_of_its_share() -> None:
    ordered = _ordered(WINE, seed=11).reset_index(drop=True)
    shares = WINE.value_counts(normalize=True)
    stops = np.linspace(0, len(ordered), 11).round().astype(int)

    for start, stop in itertools.pairwise(stops):
        counts = ordered.iloc[start:stop].value_counts()
        assert set(counts.index) == set(shares.index)
        for name, share in shares.items():
            assert abs(counts[name] - (stop - start) * share) < 2, (start, name)


def test_twenty_classes_are_interleaved_as_well() -> None:
    target = pd.Series([f"class-{n:02d}" for n in range(20) for _ in range(15 + n)])
    ordered = _ordered(target).to_numpy()
    shares = target.value_counts(normalize=True)

    for rows in range(1, len(ordered) + 1):
        behind = [abs((ordered[:rows] == name).sum() - rows * s) for name, s in shares.items()]
        assert max(behind) < 1, rows


def _furthest_from_its_share(counts: list[int], seed: int) -> float:
    target = pd.Series(np.repeat([f"c{n}" for n in range(len(counts))], counts))
    ordered = _ordered(target, seed=seed).to_numpy()
    rows = np.arange(1, len(ordered) + 1)
    return max(
        float(np.abs(np.cumsum(ordered == f"c{n}") - rows * count / len(ordered)).max())
        for n, count in enumerate(counts)
    )


def test_any_class_counts_stay_within_one_row_of_their_share_at_every_point() -> None:
    draw = np.random.default_rng(2026)
    for _ in range(60):
        counts = [int(c) for c in draw.integers(1, 60, size=draw.integers(2, 12))]
        assert _furthest_from_its_share(counts, seed=int(draw.integers(1000))) < 1, counts
    # Serving the class furthest behind its share, the obvious rule, goes past a
    # row here (1.03 rows).
    assert _furthest_from_its_share([58, 2, 17, 1, 58], seed=0) < 1


def test_the_rows_are_all_there_once() -> None:
    order = release_order(WINE, order=SHUFFLED, stratify=True, seed=5)

    assert sorted(order.tolist()) == list(range(len(WINE)))


def test_the_same_seed_gives_the_same_order_and_another_seed_another() -> None:
    first = release_order(WINE, order=SHUFFLED, stratify=True, seed=5)
    again = release_order(WINE, order=SHUFFLED, stratify=True, seed=5)
    other = release_order(WINE, order=SHUFFLED, stratify=True, seed=6)

    assert first.tolist() == again.tolist()
    assert first.tolist() != other.tolist()


def test_a_regression_target_is_shuffled_by_its_seed() -> None:
    prices = pd.Series(np.arange(200, dtype=float))

    order = release_order(prices, order=SHUFFLED, stratify=False, seed=5)

    assert sorted(order.tolist()) == list(range(200))
    assert order.tolist() != list(range(200))
    assert order.tolist() == release_order(prices, order=SHUFFLED, stratify=False, seed=5).tolist()
    # Shuffled through the whole file: its first quarter brings rows from every quarter.
    assert set(order[:50] // 50) == {0, 1, 2, 3}


def test_the_files_order_is_kept_when_chosen() -> None:
    order = release_order(WINE, order=FILE, stratify=True, seed=5)

    assert order.tolist() == list(range(len(WINE)))
