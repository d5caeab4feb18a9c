"""Whether a probe's predictions are a valid answer, decided without the hidden
labels (control side).

A classification answer is valid when every prediction is one of the
challenge's labels (the classes of the whole dataset, which students see in
the training rows); a regression answer when every prediction is a finite
number. The decision must not depend on the probed rows' labels: the outcome
of every probe is shown to its student, and an outcome that flipped with the
labels (a metric raising on a class it did not expect, or an error message
listing the classes present) would tell them. So an impossible label is an
`invalid` answer with a detail naming it, never a score.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Sequence
from functools import lru_cache
from typing import Any

import pandas as pd

from challenges.models import Challenge
from challenges.selectors import hidden_labels
from foundation.content_store import artifact_store
from worker_wing.judge.metrics import CLASSIFICATION

SHOWN_LABELS = 20


def _native(value: Any) -> Any:
    # numpy scalars hash like their Python values; .item() makes them print like them too.
    return value.item() if hasattr(value, "item") else value


@lru_cache(maxsize=16)
def _train_target(train_sha256: str, target: str) -> pd.Series:
    return artifact_store().read_frame(train_sha256)[target]


def challenge_labels(challenge: Challenge) -> dict[Hashable, Any]:
    """The challenge's classes, each mapped to itself: a prediction equal to a
    class (1.0 for 1) is looked up to the class as the labels store it."""
    split, target = challenge.split, challenge.target_column
    values = pd.concat(
        [_train_target(split.train_sha256, target), hidden_labels(split.labels_sha256)[target]]
    ).dropna()
    return {_native(value): _native(value) for value in values.unique()}


def target_deviation(challenge: Challenge) -> float | None:
    """The training target's standard deviation (public: students have the rows),
    the unit of a regression error's published scale."""
    split = challenge.split
    target = pd.to_numeric(
        _train_target(split.train_sha256, challenge.target_column), errors="coerce"
    )
    deviation = float(target.std())
    return deviation if math.isfinite(deviation) and deviation > 0 else None


def _shown(labels: dict[Hashable, Any]) -> str:
    names = sorted(str(label) for label in labels)
    more = f", … ({len(names)} in all)" if len(names) > SHOWN_LABELS else ""
    return ", ".join(names[:SHOWN_LABELS]) + more


def _as_label(value: Any, labels: dict[Hashable, Any]) -> tuple[bool, Any]:
    try:
        return (True, labels[value]) if value in labels else (False, None)
    except TypeError:  # unhashable: a list or an object is no label
        return False, None


def valid_predictions(
    predictions: Sequence[Any], *, rows: int, task_type: str, labels: dict[Hashable, Any]
) -> tuple[list[Any], str]:
    """(predictions as the metric takes them, "") or ([], why they are invalid)."""
    if len(predictions) != rows:
        return [], f"the answer has {len(predictions)} predictions for {rows} rows"
    if task_type == CLASSIFICATION:
        valid = []
        for position, value in enumerate(predictions, start=1):
            found, label = _as_label(value, labels)
            if not found:
                return [], (
                    f"prediction {position} ({value!r:.80}) is not one of the challenge's "
                    f"labels ({_shown(labels)})"
                )
            valid.append(label)
        return valid, ""
    for position, value in enumerate(predictions, start=1):
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if not number or not math.isfinite(value):
            return [], f"prediction {position} ({value!r:.80}) is not a finite number"
    return list(predictions), ""
