"""The predictions a sandbox sends back: read safely, checked, and bagged.

The student process writes each fold's predictions (validation rows, then test
rows) as NumPy `.npy` arrays one after the other, and the sandbox forwards those
bytes. They come from untrusted code, so they are read without pickle, each
header is checked against the expected length before any memory is set aside
for it, and only labels or numbers are accepted. No Django here: judge workers
use this module.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from numpy.lib import format as npy

# Booleans, integers, unsigned integers, floats, and text.
LABEL_KINDS = "biufU"
NUMBER_KINDS = "iuf"
_HEADER_LIMIT = 10_000


class PredictionsError(ValueError):
    """Predictions a student can fix: the message says what is wrong."""


@dataclass(frozen=True)
class FoldPredictions:
    validation: np.ndarray
    test: np.ndarray


def _read_array(stream: io.BytesIO, rows: int, what: str) -> np.ndarray:
    start, size = stream.tell(), len(stream.getbuffer())
    try:
        version = npy.read_magic(stream)
        if version == (1, 0):
            shape, _, dtype = npy.read_array_header_1_0(stream, max_header_size=_HEADER_LIMIT)
        else:
            shape, _, dtype = npy.read_array_header_2_0(stream, max_header_size=_HEADER_LIMIT)
    except (ValueError, SyntaxError, EOFError) as error:
        raise PredictionsError(f"predictions for {what} are not readable: {error}") from None
    if len(shape) != 1 or shape[0] != rows:
        raise PredictionsError(f"predictions for {what} have shape {shape}, expected ({rows},)")
    if dtype.hasobject or dtype.kind not in LABEL_KINDS:
        raise PredictionsError(f"predictions for {what} must be labels or numbers; found {dtype}")
    if rows * dtype.itemsize > size - stream.tell():
        raise PredictionsError(f"predictions for {what} are cut short")
    stream.seek(start)
    return np.asarray(npy.read_array(stream, allow_pickle=False, max_header_size=_HEADER_LIMIT))


def check_values(values: np.ndarray, task_type: str, what: str) -> None:
    if values.dtype.kind == "f" and not np.isfinite(values).all():
        raise PredictionsError(f"predictions for {what} contain NaN, infinite or missing values")
    if task_type == "regression" and values.dtype.kind not in NUMBER_KINDS:
        sample = values[:1].tolist()
        raise PredictionsError(f"predictions for {what} must be numbers; found {sample[0]!r}")


def read_fold_predictions(
    data: bytes,
    validation_rows: list[int],
    test_rows: int,
    task_type: str,
    *,
    configurations: int = 1,
) -> list[FoldPredictions]:
    """Every fold's validation and test predictions, in fold order, checked; with
    several configurations (a sweep), the first configuration's folds come first."""
    stream = io.BytesIO(data)
    folds = []
    for configuration in range(configurations):
        prefix = f"configuration {configuration + 1}, " if configurations > 1 else ""
        for index, rows in enumerate(validation_rows):
            validation = _read_array(stream, rows, f"{prefix}fold {index}")
            check_values(validation, task_type, f"{prefix}fold {index}")
            what = f"the test set ({prefix}fold {index} model)"
            test = _read_array(stream, test_rows, what)
            check_values(test, task_type, what)
            folds.append(FoldPredictions(validation, test))
    return folds


def bag(per_fold: list[np.ndarray], task_type: str) -> np.ndarray:
    """The fold models' test predictions combined as RAMP does: their mean for
    regression, else a majority vote whose ties go to the earliest fold's label."""
    if task_type == "regression":
        return np.mean(np.stack([p.astype(float) for p in per_fold]), axis=0)
    try:
        stacked = np.concatenate(per_fold)
    except TypeError:  # text from some folds, numbers from others: compare as text
        stacked = np.concatenate([p.astype(str) for p in per_fold])
    labels, codes = np.unique(stacked, return_inverse=True)
    codes = codes.reshape(len(per_fold), -1)
    rows = np.arange(codes.shape[1])
    votes = np.zeros((codes.shape[1], len(labels)), dtype=np.int32)
    for fold_codes in codes:
        np.add.at(votes, (rows, fold_codes), 1)
    winning = votes[rows[None, :], codes] == votes.max(axis=1)[None, :]
    earliest = winning.argmax(axis=0)
    return labels[codes[earliest, rows]]


def out_of_fold(per_fold: list[np.ndarray], folds: list[np.ndarray], rows: int) -> np.ndarray:
    """Each fold's validation predictions put back in training-row order: one
    prediction per training row, made by the model that did not see it."""
    try:
        stacked = np.concatenate(per_fold)
    except TypeError:  # text from some folds, numbers from others, as in bag()
        stacked = np.concatenate([p.astype(str) for p in per_fold])
    ordered = np.empty(rows, dtype=stacked.dtype)
    ordered[np.concatenate(folds)] = stacked
    return ordered


def read_out_of_fold(data: bytes, rows: int, task_type: str) -> np.ndarray:
    """A run's stored out-of-fold predictions (the `oof` artifact), read as safely as
    the sandbox's stream: a judge worker wrote them, and it ran student code."""
    stream = io.BytesIO(data)
    values = _read_array(stream, rows, "the out-of-fold predictions")
    check_values(values, task_type, "the out-of-fold predictions")
    return values
