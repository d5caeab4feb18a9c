"""Metrics a challenge may be judged by, named as scikit-learn names its scorers.

Judging scores predictions (`predict`), never probabilities, so only metrics that
take labels or values qualify. A score follows scikit-learn's scorer convention:
higher is better (`neg_*` metrics are negated), so ranking is one sort for all.
This module imports nothing from Django: judge workers use it too. Nor does it
import scikit-learn until a score is computed: every Django process imports this
table (the challenge form lists its names), and `sklearn.metrics` brings scipy,
about 2 s of CPU per process on a first start (measured for issue 22).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from importlib import import_module
from typing import Any

CLASSIFICATION = "classification"
REGRESSION = "regression"


@dataclass(frozen=True)
class Metric:
    name: str
    task_type: str
    # The name of its function in `sklearn.metrics`, and the keywords it is called with.
    sklearn_function: str
    sign: int = 1
    keywords: tuple[tuple[str, Any], ...] = ()

    @property
    def function(self) -> Callable[..., float]:
        function = getattr(import_module("sklearn.metrics"), self.sklearn_function)
        return partial(function, **dict(self.keywords)) if self.keywords else function

    def score(self, y_true: Any, y_pred: Any) -> float:
        return float(self.sign * self.function(y_true, y_pred))


def metrics_preload() -> None:
    """Import what scoring needs now (for a control worker's parent, before its pool
    forks: each child would otherwise pay the import on its first result)."""
    import_module("sklearn.metrics")


def _averaged(name: str, function: str, average: str) -> Metric:
    return Metric(
        name,
        CLASSIFICATION,
        function,
        keywords=(("average", average), ("zero_division", 0)),
    )


def _no_zero_division_warning(name: str, function: str) -> Metric:
    return Metric(name, CLASSIFICATION, function, keywords=(("zero_division", 0),))


_METRICS = [
    Metric("accuracy", CLASSIFICATION, "accuracy_score"),
    Metric("balanced_accuracy", CLASSIFICATION, "balanced_accuracy_score"),
    _no_zero_division_warning("f1", "f1_score"),
    _averaged("f1_macro", "f1_score", "macro"),
    _averaged("f1_micro", "f1_score", "micro"),
    _averaged("f1_weighted", "f1_score", "weighted"),
    _no_zero_division_warning("precision", "precision_score"),
    _averaged("precision_macro", "precision_score", "macro"),
    _averaged("precision_weighted", "precision_score", "weighted"),
    _no_zero_division_warning("recall", "recall_score"),
    _averaged("recall_macro", "recall_score", "macro"),
    _averaged("recall_weighted", "recall_score", "weighted"),
    _averaged("jaccard_macro", "jaccard_score", "macro"),
    Metric("matthews_corrcoef", CLASSIFICATION, "matthews_corrcoef"),
    Metric("r2", REGRESSION, "r2_score"),
    Metric("explained_variance", REGRESSION, "explained_variance_score"),
    Metric("neg_mean_absolute_error", REGRESSION, "mean_absolute_error", -1),
    Metric("neg_mean_squared_error", REGRESSION, "mean_squared_error", -1),
    Metric("neg_root_mean_squared_error", REGRESSION, "root_mean_squared_error", -1),
    Metric("neg_median_absolute_error", REGRESSION, "median_absolute_error", -1),
    Metric("neg_mean_absolute_percentage_error", REGRESSION, "mean_absolute_percentage_error", -1),
    Metric("neg_max_error", REGRESSION, "max_error", -1),
]

METRICS: dict[str, Metric] = {metric.name: metric for metric in _METRICS}


def metric_names(task_type: str) -> list[str]:
    return [metric.name for metric in _METRICS if metric.task_type == task_type]


def get_metric(name: str) -> Metric:
    try:
        return METRICS[name]
    except KeyError:
        raise KeyError(f"unknown metric {name!r}; known: {', '.join(METRICS)}") from None
