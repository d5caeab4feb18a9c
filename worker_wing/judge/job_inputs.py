"""A judge job's inputs on the worker's disk: fetched and verified once per digest,
and staged for the sandbox as it may see them.

The sandbox never gets the training file itself: it gets the training rows'
features (no labels) and, per fold, the labels of that fold's training rows
only, which the runner shows to that fold's process alone. No Django here:
judge workers use this module.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from pyarrow import parquet

from worker_wing.content_store import ContentStore
from worker_wing.judge.runner_labels import write_fold_labels


def cached_input(artifacts: ContentStore, digest: str, cache: Path) -> Path:
    """The input's bytes, verified against their digest once, then cached by it."""
    target = cache / digest
    if not target.exists():
        cache.mkdir(parents=True, exist_ok=True)
        data = artifacts.read_bytes(digest)
        fd, temporary = tempfile.mkstemp(dir=cache, prefix=".incoming-")
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    return target


def place(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def _write_once(target: Path, write: Callable[[Path], None]) -> Path:
    """`target`, written by `write` into a temporary name first, readable by the
    sandbox user; a cached file is never seen half-written."""
    if not target.exists():
        temporary = target.with_name(f".incoming-{os.getpid()}-{target.name}")
        write(temporary)
        for path in [temporary, *temporary.rglob("*")]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        try:
            os.replace(temporary, target)
        except OSError:  # another process wrote it first (a folder cannot be replaced)
            shutil.rmtree(temporary, ignore_errors=True)
    return target


def features_file(train_path: Path, target: str) -> Path:
    """The training rows without their labels: all the sandbox reads of them."""
    tag = hashlib.sha256(target.encode()).hexdigest()[:12]

    def write(path: Path) -> None:
        pd.read_parquet(train_path).drop(columns=[target]).to_parquet(path)

    return _write_once(train_path.with_name(f"{train_path.name}.{tag}.features.parquet"), write)


def fold_labels(train_path: Path, shape: DataShape, key: str) -> Path:
    """Per fold, the labels of its training rows only (folds/<i>/, runner_labels.py):
    a fold's process sees its own, so no code of the student's holds the labels of
    the rows it is scored on."""

    def write(folder: Path) -> None:
        for index, validation in enumerate(shape.folds):
            mask = np.ones(len(shape.y), dtype=bool)
            mask[validation] = False
            (folder / str(index)).mkdir(parents=True)
            write_fold_labels(shape.y[mask], folder / str(index))

    tag = hashlib.sha256(key.encode()).hexdigest()[:12]
    return _write_once(train_path.with_name(f"{train_path.name}.{tag}.folds"), write)


def place_folder(source: Path, target: Path) -> None:
    target.mkdir(mode=0o755)
    for entry in source.iterdir():
        if entry.is_dir():
            place_folder(entry, target / entry.name)
        else:
            place(entry, target / entry.name)


def cv_folds(y: pd.Series, task_type: str, folds: int, seed: int) -> list[np.ndarray]:
    """Each fold's validation rows."""
    # Imported here: the web's starting-kit page loads this module, and scikit-learn
    # with scipy costs every Django process about 2 s of CPU at its start.
    from sklearn.model_selection import KFold, StratifiedKFold

    splitter: KFold | StratifiedKFold
    if task_type == "classification" and y.value_counts().min() >= folds:
        splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    else:
        splitter = KFold(n_splits=folds, shuffle=True, random_state=seed)
    return [validation for _, validation in splitter.split(np.zeros(len(y)), y)]


def fold_of_each_row(folds: list[np.ndarray], rows: int) -> np.ndarray:
    """What the sandbox reads (folds.npy): the fold whose validation set holds each row."""
    fold_of = np.full(rows, -1, dtype=np.int16)
    for index, validation in enumerate(folds):
        fold_of[validation] = index
    return fold_of


@dataclass(frozen=True)
class DataShape:
    """What the trusted side needs of a job's data: the training labels, the folds
    and the test set's length. The same for every submission to a challenge."""

    y: pd.Series
    folds: list[np.ndarray]
    fold_of: np.ndarray
    test_rows: int


@lru_cache(maxsize=8)
def data_shape(
    train_path: Path, test_path: Path, target: str, task_type: str, folds: int, seed: int
) -> DataShape:
    # Keyed by paths named by digest: a cached shape can never be stale.
    y = pd.read_parquet(train_path, columns=[target])[target]
    validation = cv_folds(y, task_type, folds, seed)
    test_rows = parquet.read_metadata(test_path).num_rows
    return DataShape(y, validation, fold_of_each_row(validation, len(y)), test_rows)


def stage_inputs(
    folder: Path, *, features: Path, test: Path, shape: DataShape, labels: Path
) -> None:
    """The job's inputs in the sandbox's /job/input, readable by the sandbox user."""
    place(features, folder / "features.parquet")
    place(test, folder / "test.parquet")
    np.save(folder / "folds.npy", shape.fold_of)
    (folder / "folds.npy").chmod(0o644)
    place_folder(labels, folder / "folds")
