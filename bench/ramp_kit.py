"""A RAMP kit of the overhead benchmark's data and `ramp-test` to time on it.

ramp-workflow is not one of ppipe's dependencies: unless given a `ramp-test`,
the benchmark installs it into a throwaway virtualenv and, if that fails, says
so and leaves the column out.
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

PROBLEM = """\
import os

import pandas as pd
import rampwf as rw
from sklearn.model_selection import StratifiedKFold

problem_title = "ppipe overhead benchmark"
Predictions = rw.prediction_types.make_multiclass(label_names=[0, 1])
workflow = rw.workflows.Estimator()
score_types = [rw.score_types.Accuracy(name="acc")]


def get_cv(X, y):
    return StratifiedKFold(n_splits={folds}, shuffle=True, random_state={seed}).split(X, y)


def _read(path, name):
    data = pd.read_csv(os.path.join(path, "data", name))
    return data.drop(columns=["target"]), data["target"].to_numpy()


def get_train_data(path="."):
    return _read(path, "train.csv")


def get_test_data(path="."):
    return _read(path, "test.csv")
"""


def install_ramp_test(work: Path) -> tuple[Path | None, str]:
    """ramp-test in a virtualenv of its own, or None and why not."""
    venv = work / "ramp-venv"
    steps = [
        [sys.executable, "-m", "venv", str(venv)],
        [str(venv / "bin" / "pip"), "install", "--quiet", "ramp-workflow"],
    ]
    for step in steps:
        done = subprocess.run(step, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            return None, (done.stderr.strip().splitlines() or ["failed"])[-1]
    return venv / "bin" / "ramp-test", ""


def write_kit(
    kit: Path, code: str, train: pd.DataFrame, test: pd.DataFrame, folds: int, seed: int
) -> None:
    (kit / "data").mkdir(parents=True, exist_ok=True)
    (kit / "submissions" / "starting_kit").mkdir(parents=True, exist_ok=True)
    (kit / "problem.py").write_text(PROBLEM.format(folds=folds, seed=seed))
    train.to_csv(kit / "data" / "train.csv", index=False)
    test.to_csv(kit / "data" / "test.csv", index=False)
    (kit / "submissions" / "starting_kit" / "estimator.py").write_text(code)


def ramp_test_seconds(ramp_test: Path, kit: Path) -> float:
    """Wall time of one `ramp-test` of the kit's submission, start-up included,
    as a student runs it."""
    started = time.perf_counter()
    subprocess.run(
        [str(ramp_test), "--submission", "starting_kit"],
        cwd=kit,
        capture_output=True,
        check=True,
    )
    return time.perf_counter() - started
