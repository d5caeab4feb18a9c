"""Pipeline submissions for judge tests: zips of real Python files, checked and
planned as the upload does, judged on the iris split of tests/judge_kits.py."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from sklearn.datasets import load_iris

from tests.judge_kits import frames_job
from worker_wing.content_store import ContentStore
from worker_wing.judge.executor import execute_judge_job
from worker_wing.judge.sandbox import SandboxConfig
from worker_wing.pipeline.check import pipeline_upload_check
from worker_wing.pipeline.plan import submission_plans

SCALE_PY = """\
from sklearn.preprocessing import StandardScaler


def scaler():
    return StandardScaler().set_output(transform="pandas")
"""
MODEL_PY = """\
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression


def logistic():
    return LogisticRegression(max_iter=500)


def dummy():
    return DummyClassifier(strategy="most_frequent")
"""
# scale -> model; model offers two alternatives, the weaker first.
SCALE_THEN_MODEL = [
    {"name": "scale", "run": "scale.py:scaler", "inputs": ["X"], "outputs": ["scaled"]},
    {
        "name": "model",
        "inputs": ["scaled", "y"],
        "outputs": ["predictions"],
        "alternatives": {"dummy": "model.py:dummy", "logistic": "model.py:logistic"},
    },
]


def zip_of(steps: list[dict[str, Any]], files: Mapping[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("pipeline.yaml", yaml.safe_dump({"steps": steps}, sort_keys=False))
        for name, content in files.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def judge_pipeline(
    tmp_path: Path,
    steps: list[dict[str, Any]],
    files: Mapping[str, str],
    *,
    configuration: Mapping[str, str] | None = None,
    sweep: bool = False,
    batch_size: int = 0,
    cores: list[int] | None = None,
    batch_sizes: list[int] | None = None,
    folds: int = 3,
) -> tuple[dict[str, Any], ContentStore]:
    """Check, plan and judge a pipeline zip as upload and a judge worker do."""
    content = zip_of(steps, files)
    plans = submission_plans(
        pipeline_upload_check(content),
        configuration=configuration,
        sweep=sweep,
        max_configurations=64,
        cores=cores or [],
        batch_sizes=batch_sizes or [],
    )
    store = ContentStore(tmp_path / "artifacts")
    frame = load_iris(as_frame=True).frame.sample(frac=1.0, random_state=0)
    job = frames_job(
        store, "", frame.iloc[:120], frame.iloc[120:], batch_size=batch_size, folds=folds
    )
    job["code"] = {"sha256": store.put_bytes(content), "filename": "p.zip", "kind": "pipeline"}
    job["plans"] = list(plans)
    sandbox = SandboxConfig(prewarm=False, work_root=str(tmp_path))
    return execute_judge_job(job, artifacts=store, sandbox=sandbox), store
