"""Each metric a challenge may use is a scikit-learn scorer name and scores as that scorer does."""

from __future__ import annotations

import pytest
from sklearn.datasets import load_diabetes, load_iris
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import get_scorer, get_scorer_names

from worker_wing.judge.metrics import METRICS, metric_names


@pytest.mark.parametrize("name", sorted(METRICS))
def test_metric_scores_like_the_scikit_learn_scorer_of_that_name(name: str) -> None:
    metric = METRICS[name]
    if metric.task_type == "classification":
        X, y = load_iris(return_X_y=True)
        # Binary metrics (f1, precision, recall) need two classes.
        if name in {"f1", "precision", "recall"}:
            X, y = X[y < 2], y[y < 2]
        estimator = LogisticRegression(max_iter=300).fit(X[::2], y[::2])
    else:
        X, y = load_diabetes(return_X_y=True)
        estimator = LinearRegression().fit(X[::2], y[::2])

    ours = metric.score(y[1::2], estimator.predict(X[1::2]))

    assert name in get_scorer_names()
    assert ours == pytest.approx(get_scorer(name)(estimator, X[1::2], y[1::2]))


def test_every_task_type_has_metrics_and_none_is_shared() -> None:
    classification, regression = (
        set(metric_names("classification")),
        set(metric_names("regression")),
    )

    assert "accuracy" in classification
    assert "r2" in regression
    assert not classification & regression
