"""The order a challenge's training rows are released in.

Releases slice the training rows in one stored order (dispatch/planning.py), so
that order decides what each release holds. A file sorted by class, released in
file order, gives each release a class or two; a plain shuffle gives each release
every class only on average, and a small release may still miss one. So by
default the classes are interleaved: at every point of the order each class has
had its share of the rows so far within one row (smooth weighted round robin,
greedy on the largest deficit). A cumulative release then holds each class's
share within one row, and a release that adds rows (the difference of two such
prefixes) within less than two: every class whose share of a release is two rows
or more is in it. The guarantee holds for any slicing, so re-planning the
releases after publishing keeps it.

Which row of a class comes when is random, and so is the class that goes first
when two are equally behind; both are seeded. Regression targets have no classes:
their rows are shuffled, seeded.

Pure numpy and pandas: publishing and the admin's preview of the releases call it.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from challenges.drift import Drift, drifted_train

FILE, SHUFFLED = "file", "shuffled"
# Mixed into the split seed so the order is not correlated with the split's draws.
ORDER_STREAM = 20


@lru_cache(maxsize=32)
def class_sequence(counts: tuple[int, ...], seed: int) -> tuple[int, ...]:
    """The class (an index into `counts`) of each position of the order.

    Cached: it depends only on the class counts and the seed, and the admin's
    preview asks for it again on every view of a draft.
    """
    total = sum(counts)
    rng = np.random.default_rng([seed, ORDER_STREAM])
    # Ties go to the class ranked first here: one ranking for the whole order, so
    # equal classes come in a fixed cycle and every window of them stays balanced.
    ranked = [int(c) for c in rng.permutation(len(counts))]
    credit = [0] * len(counts)
    sequence = [0] * total
    for position in range(total):
        best = ranked[0]
        for index in ranked:
            # In units of 1/total rows: how far class `index` is behind its share
            # once this position is filled. A class with all its rows out is never
            # behind (its credit is then at most 0 while the sum of credits is total).
            credit[index] += counts[index]
            if credit[index] > credit[best]:
                best = index
        credit[best] -= total
        sequence[position] = best
    return tuple(sequence)


def interleaved_order(labels: pd.Series, seed: int) -> NDArray[np.int64]:
    """Positions of `labels` in release order, the classes interleaved."""
    classes, codes = np.unique(labels.astype(str).to_numpy(), return_inverse=True)
    rng = np.random.default_rng([seed, ORDER_STREAM, 1])
    rows_of = [rng.permutation(np.flatnonzero(codes == index)) for index in range(len(classes))]
    counts = tuple(len(rows) for rows in rows_of)
    sequence = np.asarray(class_sequence(counts, seed), dtype=np.int64)
    order = np.empty(len(labels), dtype=np.int64)
    for index, rows in enumerate(rows_of):
        # The class's k-th place in the sequence takes its k-th (shuffled) row.
        order[sequence == index] = rows
    return order


def shuffled_order(count: int, seed: int) -> NDArray[np.int64]:
    """Positions 0..count-1 in a seeded random order."""
    return np.random.default_rng([seed, ORDER_STREAM]).permutation(count).astype(np.int64)


def release_order(target: pd.Series, *, order: str, stratify: bool, seed: int) -> NDArray[np.int64]:
    """Positions of the training rows (whose target is `target`) in release order."""
    if order == FILE:
        return np.arange(len(target), dtype=np.int64)
    if order != SHUFFLED:
        raise ValueError(f"Unknown release order {order!r}: use {FILE!r} or {SHUFFLED!r}.")
    if stratify:
        return interleaved_order(target, seed)
    return shuffled_order(len(target), seed)


def training_rows_in_release_order(
    train: pd.DataFrame,
    *,
    target: str,
    id_column: str,
    order: str,
    stratify: bool,
    seed: int,
    drift: Drift,
    times: NDArray[np.float64] | None,
) -> pd.DataFrame:
    """The training rows as releases slice them. Drift, when on, orders them by its
    own time (`times`, one per training row), whatever the release order says."""
    if drift.active and times is not None:
        return drifted_train(train, target, id_column, times, drift)
    return train.iloc[release_order(train[target], order=order, stratify=stratify, seed=seed)]
