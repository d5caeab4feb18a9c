"""Judge jobs for executor tests, built as the control side builds them, on a
small iris split in an artifact store of the test's own."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from sklearn.datasets import load_iris

from worker_wing.content_store import ContentStore
from worker_wing.judge.executor import execute_judge_job
from worker_wing.judge.job_format import job_payload
from worker_wing.judge.sandbox import SandboxConfig

# The wall limit is far from what a job takes on an idle machine (a few seconds):
# on a loaded one the job gets a fraction of a core, and a tight wall limit would
# stop it before the limit or the failure a test names. Tests of the wall limit
# itself set their own (WALL_LIMITED).
LIMITS = {"cpu_seconds": 5, "memory_mb": 512, "wall_seconds": 300, "processes": 32, "file_mb": 16}
WALL_LIMITED = {**LIMITS, "wall_seconds": 10}
GOOD = """\
from sklearn.linear_model import LogisticRegression


def get_estimator():
    return LogisticRegression(max_iter=500)
"""


def estimator_doing(statement: str) -> str:
    """A submission whose fit runs `statement` (indented as one block)."""
    body = "\n".join(f"        {line}" for line in statement.splitlines())
    return f"""\
import os, socket, sys, time
from sklearn.dummy import DummyClassifier


class Hostile(DummyClassifier):
    def fit(self, X, y):
{body}
        return super().fit(X, y)


def get_estimator():
    return Hostile()
"""


def estimator_predicting(expression: str) -> str:
    """A submission whose predict(X) returns `expression` (of X and `np`)."""
    return f"""\
import os
import numpy as np
from sklearn.dummy import DummyClassifier


class Odd(DummyClassifier):
    def predict(self, X):
        return {expression}


def get_estimator():
    return Odd()
"""


def frames_job(
    store: ContentStore,
    code: str,
    train: pd.DataFrame,
    test: pd.DataFrame,
    *,
    folds: int = 3,
    seed: int = 1,
    limits: dict[str, int] = LIMITS,
    **overrides: Any,
) -> dict[str, Any]:
    """A classification job on frames with a `target` column, stored in `store`."""
    job = job_payload(
        submission_id=1,
        attempt=1,
        code_sha256=store.put_bytes(code.encode()),
        train_sha256=store.put_frame(train),
        test_features_sha256=store.put_frame(test.drop(columns=["target"], errors="ignore")),
        target_column="target",
        task_type="classification",
        metric="accuracy",
        folds=folds,
        seed=seed,
        limits=limits,
    )
    return {**job, **overrides}


def judge_job(store: ContentStore, code: str, **overrides: Any) -> dict[str, Any]:
    frame = load_iris(as_frame=True).frame.sample(frac=1.0, random_state=0)
    return frames_job(store, code, frame.iloc[:120], frame.iloc[120:], **overrides)


def judge(
    tmp_path: Path, code: str, *, sandbox: SandboxConfig | None = None, **overrides: Any
) -> dict[str, Any]:
    store = ContentStore(tmp_path / "artifacts")
    config = sandbox or SandboxConfig(prewarm=False, work_root=str(tmp_path))
    return execute_judge_job(judge_job(store, code, **overrides), artifacts=store, sandbox=config)
