"""The sandbox's runner reads the features, the test set and each fold's labels
through pyarrow's one-file reader (cheaper in a freshly forked process): the
student's code gets exactly the frames and series pd.read_parquet gives."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from worker_wing.judge.runner_fold import read_labels, read_parquet_file
from worker_wing.judge.runner_labels import write_fold_labels

ROWS = 12
# A fold's labels as the worker writes them: the training rows of the fold, so an
# index with holes in it (worker_wing/judge/job_inputs.py's fold_labels).
KEPT = [0, 2, 3, 5, 8, 11]
LABELS = {
    "integers": pd.Series(np.arange(ROWS) % 3, name="target"),
    "floats with NaN": pd.Series(np.where(np.arange(ROWS) % 4, 1.5, np.nan), name="target"),
    "strings": pd.Series(["setosa", "versicolor", "virginica"] * 4, name="species"),
    "categories": pd.Series(pd.Categorical(["a", "b"] * 6), name="kind"),
    "nullable integers": pd.Series(pd.array([1, None] * 6, dtype="Int64"), name="target"),
    "booleans": pd.Series(np.arange(ROWS) % 2 == 0, name="target"),
}


@pytest.mark.parametrize("kind", sorted(LABELS))
def test_a_folds_labels_are_the_series_pandas_reads(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "labels.parquet"
    LABELS[kind].iloc[KEPT].to_frame().to_parquet(path)

    read = read_parquet_file(str(path)).iloc[:, 0]

    pd.testing.assert_series_equal(read, pd.read_parquet(path).iloc[:, 0], check_exact=True)


def test_features_with_their_index_and_attributes_are_the_frame_pandas_reads(
    tmp_path: Path,
) -> None:
    frame = pd.DataFrame(
        {
            "number": np.linspace(0, 1, ROWS),
            "count": np.arange(ROWS, dtype=np.int32),
            "text": [f"row {i}" for i in range(ROWS)],
            "when": pd.date_range("2026-01-01", periods=ROWS, freq="h"),
        },
        index=pd.Index(np.arange(ROWS) * 10, name="row_id"),
    )
    frame.attrs = {"source": "a challenge"}
    path = tmp_path / "features.parquet"
    frame.to_parquet(path)

    read = read_parquet_file(str(path))

    expected = pd.read_parquet(path)
    pd.testing.assert_frame_equal(read, expected, check_exact=True)
    assert read.attrs == expected.attrs == {"source": "a challenge"}


# The worker keeps most labels as `.npy` (runner_labels.py); those it cannot rebuild
# exactly from them stay parquet (a category unseen in the fold, attrs).
AS_PARQUET = {"categories, one unseen", "with attrs"}
LABELS_AS_WRITTEN = {
    **LABELS,
    "categories, one unseen": pd.Series(
        pd.Categorical(["a", "b"] * 6, categories=["c", "a", "b"]), name="kind"
    ),
    "with attrs": pd.Series(np.arange(ROWS), name="target").copy(),
    "named index": pd.Series(
        np.arange(ROWS) * 0.5, index=pd.Index(np.arange(ROWS) * 7, name="row_id"), name="y"
    ),
    "strings with a gap": pd.Series(["a", None, "b"] * 4, name="species"),
}


LABELS_AS_WRITTEN["with attrs"].attrs = {"source": "a challenge"}


@pytest.mark.parametrize("kind", sorted(LABELS_AS_WRITTEN))
def test_a_folds_labels_as_the_worker_writes_them_are_the_series_pandas_reads(
    tmp_path: Path, kind: str
) -> None:
    labels = LABELS_AS_WRITTEN[kind].iloc[KEPT]
    labels.to_frame().to_parquet(tmp_path / "as-parquet.parquet")
    folder = tmp_path / "fold"
    folder.mkdir()

    write_fold_labels(labels, folder)
    read = read_labels(str(folder))

    expected = pd.read_parquet(tmp_path / "as-parquet.parquet").iloc[:, 0]
    pd.testing.assert_series_equal(read, expected, check_exact=True, check_index_type=True)
    assert read.attrs == expected.attrs
    assert (folder / "labels.npy").exists() == (kind not in AS_PARQUET)


def test_labels_of_an_unholed_index_keep_it_a_range(tmp_path: Path) -> None:
    labels = LABELS["integers"]
    labels.to_frame().to_parquet(tmp_path / "as-parquet.parquet")
    write_fold_labels(labels, tmp_path)

    read = read_labels(str(tmp_path))

    expected = pd.read_parquet(tmp_path / "as-parquet.parquet").iloc[:, 0]
    assert isinstance(expected.index, pd.RangeIndex)
    pd.testing.assert_series_equal(read, expected, check_exact=True, check_index_type=True)
    assert (tmp_path / "labels.npy").exists()
