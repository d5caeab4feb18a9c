"""The hidden test split depends only on the data, the fractions and the seed,
and keeps the class proportions of the dataset."""

from __future__ import annotations

import numpy as np
import pandas as pd

from challenges.splitting import split_rows


def labels(counts: dict[str, int]) -> pd.Series:
    values = [label for label, count in counts.items() for _ in range(count)]
    return pd.Series(np.random.default_rng(0).permutation(values))


def test_the_same_seed_gives_the_same_rows_and_another_seed_other_rows() -> None:
    target = labels({"a": 300, "b": 100})
    first = split_rows(target, stratify=True, test_fraction=0.3, private_fraction=0.5, seed=11)
    again = split_rows(target, stratify=True, test_fraction=0.3, private_fraction=0.5, seed=11)
    other = split_rows(target, stratify=True, test_fraction=0.3, private_fraction=0.5, seed=12)

    for part in ("train", "public_test", "private_test"):
        assert np.array_equal(getattr(first, part), getattr(again, part))
    assert not np.array_equal(first.public_test, other.public_test)


def test_parts_are_disjoint_and_cover_every_row() -> None:
    target = labels({"a": 70, "b": 30})
    split = split_rows(target, stratify=True, test_fraction=0.3, private_fraction=0.5, seed=3)

    parts = [set(split.train), set(split.public_test), set(split.private_test)]
    assert sum(len(part) for part in parts) == 100
    assert set().union(*parts) == set(range(100))
    assert len(split.test) == 30


def test_each_part_keeps_the_class_proportions() -> None:
    target = labels({"a": 600, "b": 300, "c": 100})
    split = split_rows(target, stratify=True, test_fraction=0.2, private_fraction=0.5, seed=5)

    for rows in (split.train, split.public_test, split.private_test):
        shares = target.iloc[rows].value_counts(normalize=True)
        assert abs(shares["a"] - 0.6) < 0.011
        assert abs(shares["b"] - 0.3) < 0.011
        assert abs(shares["c"] - 0.1) < 0.011


def test_no_private_part_when_its_fraction_is_zero() -> None:
    target = pd.Series(np.arange(50, dtype=float))
    split = split_rows(target, stratify=False, test_fraction=0.2, private_fraction=0.0, seed=1)

    assert len(split.private_test) == 0
    assert len(split.public_test) == 10
