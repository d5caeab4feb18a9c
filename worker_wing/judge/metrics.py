"""Metrics a challenge may be judged by, named as scikit-learn names its scorers.

Judging scores predictions (`predict`), never probabilities, so only metrics that
take labels or values qualify. A score follows scikit-learn's scorer convention:
higher is better (`neg_*` metrics are negated), so ranking is one sort for all.
This module imports nothing from Django: judge workers use it too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

from sklearn import metrics as skm

CLASSIFICATION = "classification"
REGRESSION = "regression"


@dataclass(frozen=True)
class Metric:
    name: str
    task_type: str
    function: Callable[..., float]
    sign: int = 1

    def score(self, y_true: Any, y_pred: Any) -> float:
        return float(self.sign * self.function(y_true, y_pred))


def _averaged(function: Callable[..., float], average: str) -> Callable[..., float]:
    return partial(function, average=average, zero_division=0)


_METRICS = [
    Metric("accuracy", CLASSIFICATION, skm.accuracy_score),
    Metric("balanced_accuracy", CLASSIFICATION, skm.balanced_accuracy_score),
    Metric("f1", CLASSIFICATION, partial(skm.f1_score, zero_division=0)),
    Metric("f1_macro", CLASSIFICATION, _averaged(skm.f1_score, "macro")),
    Metric("f1_micro", CLASSIFICATION, _averaged(skm.f1_score, "micro")),
    Metric("f1_weighted", CLASSIFICATION, _averaged(skm.f1_score, "weighted")),
    Metric("precision", CLASSIFICATION, partial(skm.precision_score, zero_division=0)),
    Metric("precision_macro", CLASSIFICATION, _averaged(skm.precision_score, "macro")),
    Metric("precision_weighted", CLASSIFICATION, _averaged(skm.precision_score, "weighted")),
    Metric("recall", CLASSIFICATION, partial(skm.recall_score, zero_division=0)),
    Metric("recall_macro", CLASSIFICATION, _averaged(skm.recall_score, "macro")),
    Metric("recall_weighted", CLASSIFICATION, _averaged(skm.recall_score, "weighted")),
    Metric("jaccard_macro", CLASSIFICATION, _averaged(skm.jaccard_score, "macro")),
    Metric("matthews_corrcoef", CLASSIFICATION, skm.matthews_corrcoef),
    Metric("r2", REGRESSION, skm.r2_score),
    Metric("explained_variance", REGRESSION, skm.explained_variance_score),
    Metric("neg_mean_absolute_error", REGRESSION, skm.mean_absolute_error, -1),
    Metric("neg_mean_squared_error", REGRESSION, skm.mean_squared_error, -1),
    Metric("neg_root_mean_squared_error", REGRESSION, skm.root_mean_squared_error, -1),
    Metric("neg_median_absolute_error", REGRESSION, skm.median_absolute_error, -1),
    Metric(
        "neg_mean_absolute_percentage_error",
        REGRESSION,
        skm.mean_absolute_percentage_error,
        -1,
    ),
    Metric("neg_max_error", REGRESSION, skm.max_error, -1),
]

METRICS: dict[str, Metric] = {metric.name: metric for metric in _METRICS}


def metric_names(task_type: str) -> list[str]:
    return [metric.name for metric in _METRICS if metric.task_type == task_type]


def get_metric(name: str) -> Metric:
    try:
        return METRICS[name]
    except KeyError:
        raise KeyError(f"unknown metric {name!r}; known: {', '.join(METRICS)}") from None
