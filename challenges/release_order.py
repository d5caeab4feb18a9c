"""The order a challenge's training rows are released in.

Releases slice the training rows in one stored order (dispatch/planning.py), so
that order decides what each release holds. A file sorted by class, released in
file order, gives each release a class or two; a plain shuffle gives each release
every class only on average, and a small release may still miss one. So by
default the classes are interleaved: at every point of the order each class has
had its share of the rows so far within less than one row (Tijdeman's chairman
assignment, below). A cumulative release then holds each class's share within
one row, and a release that adds rows (the difference of two such prefixes)
within less than two: every class whose share of a release is two rows or more
is in it. It holds for any slicing, so re-planning the releases after publishing
keeps it.

Which row of a class comes when is random, and so is the class that goes first
when two are equally behind; both are seeded. Regression targets have no classes:
their rows are shuffled, seeded.

Pure numpy and pandas: publishing and the admin's preview of the releases call it.
"""

from __future__ import annotations

import heapq
from functools import lru_cache

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from challenges.drift import Drift, drifted_train

FILE, SHUFFLED = "file", "shuffled"
# Mixed into the split seed so the order is not correlated with the split's draws.
ORDER_STREAM = 20


@lru_cache(maxsize=8)
def class_sequence(counts: tuple[int, ...], seed: int) -> NDArray[np.int32]:
    """The class (an index into `counts`) of each position of the order, read-only.

    Cached: it depends only on the class counts and the seed, and the admin's
    preview asks for it again on every view of a draft (4 bytes a row).
    """
    rng = np.random.default_rng([seed, ORDER_STREAM])
    # Equal deadlines go to the class ranked first here: one ranking for the whole
    # order, so equal classes come in a fixed cycle and any window of them is balanced.
    ranked = [int(c) for c in rng.permutation(len(counts))]
    chosen = _nearest_deadline_first([counts[index] for index in ranked])
    frozen = np.asarray(ranked, dtype=np.int32)[chosen]
    frozen.flags.writeable = False  # shared by every caller of the cache
    return frozen


# Tijdeman's solution of the chairman assignment problem (1980): with k classes
# and s = 1 - 1/(2k - 2), the next row of a class may come once its share of the
# rows so far is 1 - s ahead of what it has had (sooner would put it more than s
# ahead), and must come before it is s behind; filling each position with the
# class whose deadline is nearest among those that may come keeps every class
# within s (less than a row) of its share at every point. Shares are
# counts/total; `scale` = 2k - 2 clears the fraction of s. Two heaps make a
# position cost log k: about a second a million rows.
def _nearest_deadline_first(weights: list[int]) -> NDArray[np.int32]:
    """The index into `weights` of each position; equal deadlines go to the lowest."""
    total, scale = sum(weights), max(2 * len(weights) - 2, 1)
    taken = [0] * len(weights)
    chosen = np.empty(total, dtype=np.int32)

    def may_come_at(index: int) -> int:
        # The first position p with scale * (weight * p - taken * total) >= total.
        return -(-total * (scale * taken[index] + 1) // (scale * weights[index]))

    waiting = [(may_come_at(index), index) for index in range(len(weights))]
    heapq.heapify(waiting)
    ready: list[tuple[float, int]] = []
    for position in range(1, total + 1):
        while waiting and waiting[0][0] <= position:
            _, index = heapq.heappop(waiting)
            # Its deadline (in positions, times total/scale, the same for every class).
            # A float: equal fractions give equal floats, and unequal ones are far
            # enough apart for the bound's slack.
            heapq.heappush(ready, ((scale * taken[index] + scale - 1) / weights[index], index))
        _, best = heapq.heappop(ready)
        taken[best] += 1
        chosen[position - 1] = best
        if taken[best] < weights[best]:
            heapq.heappush(waiting, (may_come_at(best), best))
    return chosen


def interleaved_order(labels: pd.Series, seed: int) -> NDArray[np.int64]:
    """Positions of `labels` in release order, the classes interleaved."""
    _, codes = np.unique(labels.astype(str).to_numpy(), return_inverse=True)
    counts = np.bincount(codes)
    rng = np.random.default_rng([seed, ORDER_STREAM, 1])
    grouped = np.split(np.argsort(codes, kind="stable"), np.cumsum(counts)[:-1])
    rows = np.concatenate([rng.permutation(group) for group in grouped])
    sequence = class_sequence(tuple(int(count) for count in counts), seed)
    # The places of each class in the sequence, class by class, in order: the k-th
    # place of a class takes its k-th (shuffled) row.
    order = np.empty(len(labels), dtype=np.int64)
    order[np.argsort(sequence, kind="stable")] = rows
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
