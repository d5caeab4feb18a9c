"""Pipeline submissions judged in real bubblewrap: steps run in dependency order, the
steps of one level concurrently, inference in batches of the challenge's size; each
step's time, CPU and memory is measured, and a step that breaks the contract at run
time fails the submission with a reason naming it."""

from __future__ import annotations

import math
from pathlib import Path

from tests.pipeline_kits import MODEL_PY, SCALE_PY, SCALE_THEN_MODEL, judge_pipeline

# Two featurizers on one level, each waiting in fit for the other to arrive: run one
# after the other, the barrier breaks (after 60 s: far from the fork of a step on a
# loaded machine) and the submission fails.
MEET_PY = """\
import threading

from sklearn.preprocessing import FunctionTransformer

both_fitting = threading.Barrier(2, timeout=60)


class Meeting(FunctionTransformer):
    def fit(self, X, y=None):
        both_fitting.wait()
        return super().fit(X, y)


def left():
    return Meeting(lambda X: X.iloc[:, :2].to_numpy())


def right():
    return Meeting(lambda X: X.iloc[:, 2:].to_numpy())
"""
JOIN_PY = """\
import numpy as np
from sklearn.linear_model import LogisticRegression


class Joined(LogisticRegression):
    def fit(self, left, right, y):
        return super().fit(np.hstack([left, right]), y)

    def predict(self, left, right):
        return super().predict(np.hstack([left, right]))


def joined():
    return Joined(max_iter=500)
"""
DIAMOND = [
    {"name": "left", "run": "meet.py:left", "inputs": ["X"], "outputs": ["a"]},
    {"name": "right", "run": "meet.py:right", "inputs": ["X"], "outputs": ["b"]},
    {
        "name": "model",
        "run": "join.py:joined",
        "inputs": ["a", "b", "y"],
        "outputs": ["predictions"],
    },
]


def test_independent_steps_run_concurrently_and_each_is_measured(tmp_path: Path) -> None:
    result, _ = judge_pipeline(tmp_path, DIAMOND, {"meet.py": MEET_PY, "join.py": JOIN_PY})

    assert result["ok"], result["reason"]
    assert result["cv_mean"] > 0.8
    (configuration,) = result["configurations"]
    steps = {step["name"]: step for step in configuration["steps"]}
    assert [steps[name]["level"] for name in ("left", "right", "model")] == [0, 0, 1]
    assert steps["model"]["target"] == "join.py:joined"
    for step in steps.values():
        assert step["fit_seconds"] > 0
        assert step["cpu_seconds"] > 0
        assert step["peak_memory_mb"] > 50  # the process with numpy, pandas and sklearn
        assert 0 < step["latency_p50_ms"] <= step["latency_p95_ms"]


def test_inference_runs_in_batches_of_the_challenges_size(tmp_path: Path) -> None:
    guard = MODEL_PY.replace(
        "def dummy():",
        "class Small(LogisticRegression):\n"
        "    def predict(self, X):\n"
        "        assert len(X) <= 7, f'a batch of {len(X)} rows'\n"
        "        return super().predict(X)\n\n\n"
        "def small():\n    return Small(max_iter=500)\n\n\ndef dummy():",
    )
    steps = [SCALE_THEN_MODEL[0], {**SCALE_THEN_MODEL[1], "alternatives": {"s": "model.py:small"}}]

    result, _ = judge_pipeline(
        tmp_path, steps, {"scale.py": SCALE_PY, "model.py": guard}, batch_size=7
    )

    assert result["ok"], result["reason"]
    # 3 folds of 40 validation rows and the 30 test rows, 7 at a time.
    assert result["configurations"][0]["batches"] == 3 * (math.ceil(40 / 7) + math.ceil(30 / 7))


def test_a_sweep_reports_every_configuration_and_keeps_the_best_by_cross_validation(
    tmp_path: Path,
) -> None:
    result, _ = judge_pipeline(
        tmp_path, SCALE_THEN_MODEL, {"scale.py": SCALE_PY, "model.py": MODEL_PY}, sweep=True
    )

    assert result["ok"], result["reason"]
    table = {row["configuration"]["model"]: row for row in result["configurations"]}
    assert set(table) == {"dummy", "logistic"}
    assert table["logistic"]["cv_mean"] > table["dummy"]["cv_mean"] + 0.3
    assert result["configurations"][result["chosen"]]["configuration"] == {"model": "logistic"}
    assert result["cv_mean"] == table["logistic"]["cv_mean"]


def test_a_chosen_configuration_runs_alone(tmp_path: Path) -> None:
    result, _ = judge_pipeline(
        tmp_path,
        SCALE_THEN_MODEL,
        {"scale.py": SCALE_PY, "model.py": MODEL_PY},
        configuration={"model": "dummy"},
    )

    assert result["ok"], result["reason"]
    assert [row["configuration"] for row in result["configurations"]] == [{"model": "dummy"}]
    assert result["cv_mean"] < 0.5  # the majority class of three


def test_a_step_returning_the_wrong_type_fails_naming_the_step(tmp_path: Path) -> None:
    broken = SCALE_PY.replace(
        "def scaler():",
        "class Forgetful(StandardScaler):\n"
        "    def transform(self, X):\n"
        "        super().transform(X)\n\n\n"
        "def forgetful():\n    return Forgetful()\n\n\ndef scaler():",
    )
    steps = [{**SCALE_THEN_MODEL[0], "run": "scale.py:forgetful"}, SCALE_THEN_MODEL[1]]

    result, _ = judge_pipeline(tmp_path, steps, {"scale.py": broken, "model.py": MODEL_PY})

    assert result["ok"] is False
    assert result["transient"] is False
    assert result["reason"] == (
        "step scale: transform returned NoneType for 'scaled'; it must return one row per "
        "input row (an array, a frame or a list)"
    )


def test_a_step_raising_is_named_in_the_reason(tmp_path: Path) -> None:
    broken = MODEL_PY.replace(
        "def dummy():\n", "def dummy():\n    raise RuntimeError('no model today')\n"
    )

    result, _ = judge_pipeline(
        tmp_path, SCALE_THEN_MODEL, {"scale.py": SCALE_PY, "model.py": broken}
    )

    assert result["ok"] is False
    assert result["reason"].startswith("step model: fit on fold 0 raised RuntimeError"), result


def test_inference_in_more_batches_than_memory_windows_is_judged(tmp_path: Path) -> None:
    # One row at a time: 70 batches a fold, past the 64 memory windows a step keeps
    # (the last one stretches to cover the rest).
    result, _ = judge_pipeline(
        tmp_path, SCALE_THEN_MODEL, {"scale.py": SCALE_PY, "model.py": MODEL_PY}, batch_size=1
    )

    assert result["ok"], result["reason"]
    assert result["configurations"][0]["batches"] == 3 * (40 + 30)
