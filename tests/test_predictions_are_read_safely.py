"""Predictions come back from untrusted code as .npy bytes: the judge worker reads
them without pickle and without trusting their headers, and bags the fold
models' test predictions as RAMP does."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest

from worker_wing.judge.predictions import PredictionsError, bag, read_fold_predictions


def npy(*arrays: np.ndarray, allow_pickle: bool = False) -> bytes:
    stream = io.BytesIO()
    for array in arrays:
        np.save(stream, array, allow_pickle=allow_pickle)
    return stream.getvalue()


def test_each_folds_validation_and_test_predictions_are_read_in_order() -> None:
    data = npy(np.array([1, 2]), np.array(["a", "b", "c"]), np.array([3.5]), np.array(["d"] * 3))

    folds = read_fold_predictions(data, [2, 1], 3, "classification")

    assert [f.validation.tolist() for f in folds] == [[1, 2], [3.5]]
    assert [f.test.tolist() for f in folds] == [["a", "b", "c"], ["d", "d", "d"]]


def test_a_header_claiming_a_huge_array_is_refused_before_any_allocation() -> None:
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(
        header, {"descr": "<f8", "fortran_order": False, "shape": (10**15,)}
    )
    data = b"\x93NUMPY\x01\x00" + header.getvalue()[8:] + b"\x00" * 16

    with pytest.raises(PredictionsError, match=r"shape \(1000000000000000,\), expected \(2,\)"):
        read_fold_predictions(data, [2], 2, "classification")


def test_a_pickled_array_is_never_unpickled() -> None:
    data = npy(np.array([object(), object()], dtype=object), allow_pickle=True)

    with pytest.raises(PredictionsError, match="must be labels or numbers; found object"):
        read_fold_predictions(data, [2], 2, "classification")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"PWNED" * 10, "are not readable"),
        (npy(np.array([1.0, 2.0]))[:-4], "cut short"),
        (npy(np.array([1.0, np.inf]), np.array([1.0, 1.0])), "NaN, infinite or missing"),
        (npy(np.array(["a", "b"]), np.array([1.0, 1.0])), "must be numbers; found 'a'"),
        (npy(np.array([1 + 2j, 0j]), np.array([1.0, 1.0])), "found complex128"),
        (npy(np.array([1.0, 2.0])), "the test set (fold 0 model) are not readable"),
    ],
)
def test_bad_predictions_say_what_is_wrong(data: bytes, message: str) -> None:
    with pytest.raises(PredictionsError, match=re.escape(message)):
        read_fold_predictions(data, [2], 2, "regression")


def test_bagging_votes_and_a_tie_goes_to_the_earliest_fold() -> None:
    per_fold = [np.array(["a", "b", "c"]), np.array(["b", "b", "a"]), np.array(["b", "c", "b"])]

    assert bag(per_fold, "classification").tolist() == ["b", "b", "c"]
    assert bag([np.array([1, 2]), np.array([2.0, 4.0])], "regression").tolist() == [1.5, 3.0]
