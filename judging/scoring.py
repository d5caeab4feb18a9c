"""Scoring test predictions against the hidden labels: control side only.

The labels frame (private store) holds one row per test row, in the order of the
test features the worker predicted: the row id, the target and the part
(`public` or `private`). Pure: no database, so it is tested on its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from worker_wing.judge.metrics import get_metric

PART = "part"


class ScoringError(ValueError):
    """The predictions cannot be scored; the message tells the student why."""


@dataclass(frozen=True)
class HiddenTestScores:
    public: float
    private: float | None


def _as_series(predictions: list[Any], expected_rows: int) -> pd.Series:
    if len(predictions) != expected_rows:
        raise ScoringError(
            f"the test predictions have {len(predictions)} rows; the test set has {expected_rows}"
        )
    series = pd.Series(predictions)
    if series.isna().any():
        raise ScoringError("the test predictions contain missing values (NaN or None)")
    return series


def hidden_test_scores(
    *, labels: pd.DataFrame, target_column: str, metric_name: str, predictions: list[Any]
) -> HiddenTestScores:
    metric = get_metric(metric_name)
    predicted = _as_series(predictions, len(labels))
    truth = labels[target_column].reset_index(drop=True)
    parts = labels[PART].reset_index(drop=True)

    def score(mask: pd.Series) -> float:
        try:
            value = metric.score(truth[mask].to_numpy(), predicted[mask].to_numpy())
        except (TypeError, ValueError) as error:
            raise ScoringError(f"the test predictions cannot be scored: {error}") from None
        if not np.isfinite(value):
            raise ScoringError(f"the {metric_name} of the test predictions is not a number")
        return value

    private_mask = parts == "private"
    return HiddenTestScores(
        public=score(~private_mask),
        private=score(private_mask) if private_mask.any() else None,
    )
