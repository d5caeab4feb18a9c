"""RAMP's greedy blending on the validation folds, checked by hand: the best single
submission first, then (with replacement) whichever addition improves the
ensemble most, until none does; contributivity is the share of the members,
averaged over the folds, summing to 100. Ties go to the earlier submission."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from judging.blending import blend
from worker_wing.judge.metrics import get_metric

accuracy = get_metric("accuracy").score
neg_mse = get_metric("neg_mean_squared_error").score

# Fold 0 (rows 0-7): A and B each wrong once (A on row 0, B on row 1), both saying
# 1 for a 0; their votes tie there and go to the first label, 0: together they are
# perfect. C is B's copy, uploaded later; D says 0 everywhere. Fold 1 (rows 8-11):
# A alone is perfect.
Y = np.array([0, 0, 0, 0, 1, 1, 1, 1, 0, 1, 0, 1])
FOLD_OF = np.array([0] * 8 + [1] * 4)
A = np.array([1, 0, 0, 0, 1, 1, 1, 1, 0, 1, 0, 1])
B = np.array([0, 1, 0, 0, 1, 1, 1, 1, 1, 1, 0, 1])
C = B.copy()
D = np.zeros(12, dtype=int)


def test_votes_a_hand_checked_example() -> None:
    result = blend([A, B, C, D], Y, FOLD_OF, task_type="classification", score=accuracy)

    # Fold 0: A (7/8, earlier than B and C) then B (8/8; C would tie, B is earlier).
    # Fold 1: A (4/4), nothing better. A: (1/2 + 1) / 2, B: (1/2 + 0) / 2.
    assert [fold.members for fold in result.folds] == [(0, 1), (0,)]
    assert [fold.score for fold in result.folds] == [1.0, 1.0]
    assert result.contributivity == [75.0, 25.0, 0.0, 0.0]


def test_a_copy_of_an_earlier_submission_gets_nothing_in_any_order() -> None:
    for order in itertools.permutations([A, B, D]):
        candidates = [*order, order[0].copy()]  # the last is a copy of the first

        result = blend(candidates, Y, FOLD_OF, task_type="classification", score=accuracy)

        assert result.contributivity[-1] == 0.0


def test_regression_averages_members_chosen_with_replacement() -> None:
    y = np.array([1.0, 1.0])
    low, high, near = np.array([0.0, 0.0]), np.array([2.0, 2.0]), np.array([1.5, 1.5])

    result = blend(
        [low, high, near], y, np.zeros(2, dtype=int), task_type="regression", score=neg_mse
    )

    # near (-0.25), + low: mean 0.75 (-0.0625), + near again: mean 1.0 (0), stop.
    (fold,) = result.folds
    assert fold.members == (2, 0, 2)
    assert fold.score == 0.0
    assert result.contributivity == pytest.approx([100 / 3, 0.0, 200 / 3])


def test_contributivities_sum_to_100() -> None:
    rng = np.random.default_rng(3)
    y = rng.integers(0, 3, 300)
    fold_of = np.arange(300) % 5
    noisy = [np.where(rng.random(300) < 0.3, rng.integers(0, 3, 300), y) for _ in range(12)]

    result = blend(noisy, y, fold_of, task_type="classification", score=accuracy)

    assert sum(result.contributivity) == pytest.approx(100.0)
    assert all(value >= 0 for value in result.contributivity)
    assert max(len(fold.members) for fold in result.folds) > 1


def test_past_the_time_budget_each_fold_keeps_its_best_single_submission() -> None:
    ticks = itertools.count()

    result = blend(
        [A, B, C, D],
        Y,
        FOLD_OF,
        task_type="classification",
        score=accuracy,
        seconds=0.5,
        clock=lambda: float(next(ticks)),
    )

    assert result.cut_short
    assert [fold.members for fold in result.folds] == [(0,), (0,)]
    assert result.contributivity == [100.0, 0.0, 0.0, 0.0]


def test_each_distinct_prediction_of_a_fold_is_scored_once_and_the_blend_is_unchanged() -> None:
    scored: list[tuple[bytes, bytes]] = []

    def counting_accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
        scored.append((y_true.tobytes(), y_pred.tobytes()))
        return accuracy(y_true, y_pred)

    # Copies of A, B and D: the same few ensembles' predictions come up again and again.
    result = blend(
        [A, B, C, D, A.copy(), D.copy(), B.copy()],
        Y,
        FOLD_OF,
        task_type="classification",
        score=counting_accuracy,
    )

    assert len(scored) == len(set(scored)), "a prediction was scored twice in a fold"
    assert [fold.members for fold in result.folds] == [(0, 1), (0,)]
    assert result.contributivity == [75.0, 25.0, 0.0, 0.0, 0.0, 0.0, 0.0]
