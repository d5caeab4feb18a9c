"""A judged run leaves its out-of-fold predictions in the artifact store (`oof`):
one per training row, in row order, each made by the fold model that did not see
the row, so the control side can blend submissions without running them again."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.judge_kits import GOOD, judge_job
from worker_wing.content_store import ContentStore
from worker_wing.judge.executor import execute_judge_job
from worker_wing.judge.job_inputs import cv_folds
from worker_wing.judge.metrics import get_metric
from worker_wing.judge.predictions import PredictionsError, read_out_of_fold
from worker_wing.judge.sandbox import SandboxConfig


def test_the_out_of_fold_predictions_rescore_each_fold(tmp_path: Path) -> None:
    store = ContentStore(tmp_path / "artifacts")
    job = judge_job(store, GOOD)
    sandbox = SandboxConfig(prewarm=False, work_root=str(tmp_path))

    result = execute_judge_job(job, artifacts=store, sandbox=sandbox)

    assert result["ok"], result["reason"]
    y = pd.read_parquet(io.BytesIO(store.read_bytes(job["data"]["train_sha256"])))["target"]
    oof = read_out_of_fold(store.read_bytes(result["artifacts"]["oof"]), len(y), "classification")
    folds = cv_folds(y, "classification", job["cv"]["folds"], job["cv"]["seed"])
    accuracy = get_metric("accuracy").score
    rescored = [accuracy(y.iloc[rows].to_numpy(), oof[rows]) for rows in folds]
    assert rescored == pytest.approx([fold["score"] for fold in result["folds"]])


def test_stored_out_of_fold_predictions_are_read_without_pickle(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    np.save(buffer, np.array([object(), object()], dtype=object), allow_pickle=True)

    with pytest.raises(PredictionsError, match="labels or numbers"):
        read_out_of_fold(buffer.getvalue(), 2, "classification")
    with pytest.raises(PredictionsError, match="expected \\(3,\\)"):
        read_out_of_fold(buffer.getvalue(), 3, "classification")
