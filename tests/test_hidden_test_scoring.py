"""The control side scores test predictions on the public part of the hidden
test set while a challenge is open, and keeps the private part's score apart;
predictions it cannot score fail with a reason a student can act on."""

from __future__ import annotations

import pandas as pd
import pytest
from sklearn.metrics import balanced_accuracy_score

from judging.scoring import ScoringError, hidden_test_scores

LABELS = pd.DataFrame(
    {
        "row_id": range(8),
        "y": ["a", "b", "a", "b", "a", "b", "a", "b"],
        "part": ["public"] * 4 + ["private"] * 4,
    }
)


def scores(predictions: list[object]) -> object:
    return hidden_test_scores(
        labels=LABELS, target_column="y", metric_name="balanced_accuracy", predictions=predictions
    )


def test_public_and_private_parts_are_scored_apart_as_scikit_learn_does() -> None:
    predictions = ["a", "b", "a", "a", "b", "b", "b", "b"]

    result = scores(predictions)

    assert result.public == balanced_accuracy_score(LABELS.y[:4], predictions[:4])  # type: ignore[attr-defined]
    assert result.private == balanced_accuracy_score(LABELS.y[4:], predictions[4:])  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("predictions", "message"),
    [
        (["a"] * 7, "have 7 rows; the test set has 8"),
        (["a"] * 7 + [None], "missing values"),
        ([1.5] * 8, "cannot be scored"),
    ],
)
def test_predictions_that_cannot_be_scored_say_why(predictions: list[object], message: str) -> None:
    with pytest.raises(ScoringError, match=message):
        scores(predictions)
