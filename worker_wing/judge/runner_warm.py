"""The nursery's warm-up, INSIDE the sandbox, before it forks any box: the
libraries' first calls, made once on made-up data, so that every job forked from
a box forked from it starts where a warm Python would. Part of the sandbox's
runner (sandbox_runner.py): it imports nothing of ppipe.

Importing numpy, pandas and scikit-learn is not all a first fit costs: pandas
and scikit-learn import more modules on their first call (scikit-learn's
dataframe checks import narwhals' pandas backend, about twenty modules), pyarrow
imports its dataset layer on the first read, and caches fill. A fork loses
whatever its parent did after the fork, so without this every fold of every
job paid those first calls again (about 35 ms of CPU a fold for a
LogisticRegression on a small table, and the labels' first read on top).

It reads and fits nothing but the table built here, in the nursery, whose CPU
is charged to its own cgroup, never a job's: no job's data or code is ever in
the nursery or a box's zygote (tests/test_judge_sandbox_isolation.py).
"""

from __future__ import annotations

import contextlib
import gc
import io
import os
import pickle
import tempfile
import warnings

import numpy as np
import pandas as pd
from sklearn.ensemble import RandomForestClassifier, RandomForestRegressor
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import PolynomialFeatures, StandardScaler

_ROWS = 60


def _made_up_table() -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """Numbers and a text column, as a challenge's tables hold them."""
    generator = np.random.default_rng(0)
    frame = pd.DataFrame(generator.normal(size=(_ROWS, 4)), columns=["a", "b", "c", "d"])
    frame["kind"] = np.where(frame["a"] > 0, "x", "y")
    classes = (frame["b"] > 0).astype(int).to_numpy()
    return frame, classes, frame["c"].to_numpy()


def _read_as_the_runner_does(frame: pd.DataFrame, folder: str) -> pd.DataFrame:
    """A Parquet file written and read by path (pyarrow's file and dataset layers),
    and a .npy file, as the supervisor and each fold read their inputs."""
    path = os.path.join(folder, "warm.parquet")
    frame.to_parquet(path)
    np.save(os.path.join(folder, "warm.npy"), np.arange(_ROWS, dtype=np.int16))
    np.load(os.path.join(folder, "warm.npy"), allow_pickle=False)
    # Without pyarrow's CPU pool; its I/O pool still leaves two threads in the nursery
    # (nursery.py's _NURSERY_TASKS counts them); a box, forked from one thread, has none.
    return pd.read_parquet(path, use_threads=False)


def _fit_and_predict(frame: pd.DataFrame, classes: np.ndarray, values: np.ndarray) -> None:
    numbers = frame.select_dtypes(include="number")
    models = [
        (LogisticRegression(max_iter=20), classes),
        (make_pipeline(PolynomialFeatures(2), StandardScaler(), LogisticRegression()), classes),
        (RandomForestClassifier(n_estimators=2, random_state=0), classes),
        (make_pipeline(StandardScaler(), LinearRegression()), values),
        (RandomForestRegressor(n_estimators=2, random_state=0), values),
    ]
    for model, target in models:
        model.fit(numbers, pd.Series(target))
        np.asarray(model.predict(numbers.iloc[: _ROWS // 2]))
        pickle.dumps(model, protocol=5)
    buffer = io.BytesIO()
    np.save(buffer, classes, allow_pickle=False)


def warm_up() -> None:
    """Make the libraries' first calls now; never fails the nursery (a job would then
    only pay them itself)."""
    with (
        warnings.catch_warnings(),
        tempfile.TemporaryDirectory(prefix="ppipe-warm-") as folder,
        contextlib.suppress(Exception),
    ):
        warnings.simplefilter("ignore")
        frame, classes, values = _made_up_table()
        frame = _read_as_the_runner_does(frame, folder)
        _fit_and_predict(frame, classes, values)
    # What is alive now stays as it is in every fork: the collector never walks it
    # again there, nor writes to its pages (which would copy them per fork).
    gc.collect()
    gc.freeze()
