"""Contributivity as RAMP computes it: how much each submission adds to a greedy
ensemble of the challenge's submissions. No Django here: a pure function of the
submissions' out-of-fold predictions, the training labels and the folds.

For each cross-validation fold, on that fold's validation rows: start from the
best single submission, then repeatedly add (with replacement) the submission
whose addition most improves the ensemble's score, and stop when none does (or
at `max_members`, or when the time budget runs out). The ensemble predicts the
mean of its members' predictions for regression and, for classification, the
label with the most votes (only predicted labels are judged, no probabilities;
equal votes go to the first label in sorted order, see _Vote). A submission's
contributivity is its share of a fold's members (a member chosen twice counts
twice), averaged over the folds, in percent: the contributivities sum to 100.

Ties go to the earlier submission (callers pass them oldest first): a copy of a
submission already chosen is never needed, so an identical later submission
gets 0. An addition must improve the score strictly.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

# y_true, y_pred -> score, higher is better (worker_wing.judge.metrics.Metric.score).
Scorer = Callable[[np.ndarray, np.ndarray], float]
Clock = Callable[[], float]


@dataclass(frozen=True)
class FoldEnsemble:
    """One fold's ensemble: candidate indexes in the order chosen (repeats allowed)."""

    members: tuple[int, ...]
    score: float
    # The time budget ran out before the greedy selection stopped on its own.
    cut_short: bool = False


@dataclass(frozen=True)
class Blend:
    folds: list[FoldEnsemble]
    # Per candidate, in percent; they sum to 100 (0 each with no candidate).
    contributivity: list[float]

    @property
    def cut_short(self) -> bool:
        return any(fold.cut_short for fold in self.folds)


class _Mean:
    """Regression: the members' mean, kept as a running sum."""

    def __init__(self, predictions: np.ndarray) -> None:
        self.predictions = predictions.astype(float)
        self.total = np.zeros(predictions.shape[1])
        self.count = 0

    def with_candidate(self, index: int) -> np.ndarray:
        return np.asarray((self.total + self.predictions[index]) / (self.count + 1))

    def add(self, index: int) -> None:
        self.total += self.predictions[index]
        self.count += 1


class _Vote:
    """Classification: the vote counts per row and label (RAMP's mean of one-hot
    vectors, unnormalised). Equal votes go to the first label in sorted order, as
    RAMP's argmax over the averaged vectors does: a rule by member (the first
    chosen, say) would make every two-member ensemble its first member's copy, and
    the greedy selection could never leave one member."""

    def __init__(self, codes: np.ndarray, labels: np.ndarray) -> None:
        self.codes, self.labels = codes, labels
        self.rows = np.arange(codes.shape[1])
        self.votes = np.zeros((codes.shape[1], len(labels)), dtype=np.int64)

    def _counted(self, index: int) -> np.ndarray:
        votes = self.votes.copy()
        votes[self.rows, self.codes[index]] += 1
        return votes

    def with_candidate(self, index: int) -> np.ndarray:
        return np.asarray(self.labels[self._counted(index).argmax(axis=1)])

    def add(self, index: int) -> None:
        self.votes = self._counted(index)


def _scored(score: Scorer, y: np.ndarray, predictions: np.ndarray) -> float:
    # A combination the metric refuses is never chosen (it cannot be better).
    try:
        value = float(score(y, predictions))
    except (TypeError, ValueError):
        return -math.inf
    return value if math.isfinite(value) else -math.inf


class _FoldScores:
    """One fold's scores, each distinct ensemble prediction scored once.

    Most trials predict what an ensemble already scored predicts: a vote that flips
    no label, a copy of a member, resubmitted code. scikit-learn's checks around a
    metric cost about a millisecond a call on a few hundred rows, nearly all of a
    computation's CPU (measured for issue 22: 93 % of it), so a prediction seen
    before in this fold takes its score from here. Exact: `y` is the fold's, and
    the key is the prediction's dtype, shape and bytes (object arrays, whose bytes
    are pointers, are always scored)."""

    def __init__(self, score: Scorer, y: np.ndarray) -> None:
        self.score, self.y = score, y
        self.seen: dict[tuple[str, tuple[int, ...], bytes], float] = {}

    def __call__(self, predictions: np.ndarray) -> float:
        if predictions.dtype.hasobject:
            return _scored(self.score, self.y, predictions)
        key = (predictions.dtype.str, predictions.shape, predictions.tobytes())
        if key not in self.seen:
            self.seen[key] = _scored(self.score, self.y, predictions)
        return self.seen[key]


def greedy_fold_ensemble(
    combiner: _Mean | _Vote,
    candidates: int,
    y: np.ndarray,
    *,
    score: Scorer,
    max_members: int,
    deadline: float,
    clock: Clock,
) -> FoldEnsemble:
    """RAMP's greedy forward selection with replacement on one fold."""
    scored = _FoldScores(score, y)
    singles = [scored(combiner.with_candidate(i)) for i in range(candidates)]
    best = max(range(candidates), key=lambda i: (singles[i], -i))
    combiner.add(best)
    members, best_score, cut_short = [best], singles[best], False
    while len(members) < max_members:
        if clock() >= deadline:
            cut_short = True
            break
        chosen = None
        for candidate in range(candidates):
            trial = scored(combiner.with_candidate(candidate))
            # Strictly better: an equal score leaves the earlier candidate chosen.
            if trial > best_score:
                chosen, best_score = candidate, trial
        if chosen is None:
            break
        combiner.add(chosen)
        members.append(chosen)
    return FoldEnsemble(tuple(members), best_score, cut_short)


def shares(folds: Sequence[FoldEnsemble], candidates: int) -> list[float]:
    """Each candidate's share of the folds' members, averaged, in percent."""
    total = np.zeros(candidates)
    for fold in folds:
        counts = np.bincount(np.asarray(fold.members, dtype=np.int64), minlength=candidates)
        total += counts / len(fold.members)
    grand = total.sum()
    return [float(x) for x in (100 * total / grand if grand else total)]


def _label_codes(
    predictions: Sequence[np.ndarray], y: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The candidates' labels as codes into one label list, and y comparable with them."""
    try:
        stacked = np.concatenate(predictions)
    except TypeError:  # text from some, numbers from others: compare as text
        stacked = np.concatenate([p.astype(str) for p in predictions])
        y = y.astype(str)
    labels, codes = np.unique(stacked, return_inverse=True)
    return labels, codes.reshape(len(predictions), -1), y


def blend(
    out_of_fold: Sequence[np.ndarray],
    y: np.ndarray,
    fold_of: np.ndarray,
    *,
    task_type: str,
    score: Scorer,
    max_members: int = 50,
    seconds: float = 60.0,
    clock: Clock = time.monotonic,
) -> Blend:
    """Contributivity of each candidate (oldest first) from its out-of-fold
    predictions (one per training row, in row order), the training labels `y` and
    each row's fold.

    Bounded: per fold, at most `max_members` steps of one score per candidate. Past
    `seconds`, a fold stops adding members (marked `cut_short`), and the folds left
    get their best single submission only (one score per candidate each).
    """
    count = len(out_of_fold)
    folds = [int(k) for k in np.unique(fold_of) if k >= 0]
    if count == 0 or not folds:
        return Blend([], [0.0] * count)
    deadline = clock() + seconds
    if task_type == "regression":
        values = np.stack([p.astype(float) for p in out_of_fold])
    else:
        labels, codes, y = _label_codes(out_of_fold, y)
    ensembles = []
    for fold in folds:
        rows = np.flatnonzero(fold_of == fold)
        combiner: _Mean | _Vote = (
            _Mean(values[:, rows]) if task_type == "regression" else _Vote(codes[:, rows], labels)
        )
        ensembles.append(
            greedy_fold_ensemble(
                combiner,
                count,
                y[rows],
                score=score,
                max_members=max_members,
                deadline=deadline,
                clock=clock,
            )
        )
    return Blend(ensembles, shares(ensembles, count))
