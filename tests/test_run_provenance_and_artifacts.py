"""Every judged run carries its provenance (digests of code, data and challenge
configuration, seed, worker, Python and the installed packages with their digest,
start and end) and leaves its artifacts in the store: the test predictions, the
logs, the fitted model when small, and a manifest naming them with the job."""

from __future__ import annotations

import hashlib
import io
import json
import pickle
from datetime import datetime
from pathlib import Path

import numpy as np

from tests.judge_kits import GOOD, judge_job
from worker_wing.content_store import ContentStore
from worker_wing.judge.executor import execute_judge_job
from worker_wing.judge.sandbox import SandboxConfig

NOISY = GOOD.replace(
    "def get_estimator():", "print('hello from fit time')\n\n\ndef get_estimator():"
)


def judged(tmp_path: Path, code: str) -> tuple[dict, ContentStore, dict]:
    store = ContentStore(tmp_path / "artifacts")
    job = judge_job(store, code, config_sha256="c" * 64)
    sandbox = SandboxConfig(prewarm=False, work_root=str(tmp_path))
    return execute_judge_job(job, artifacts=store, sandbox=sandbox), store, job


def test_provenance_names_code_data_configuration_and_environment(tmp_path: Path) -> None:
    result, _, job = judged(tmp_path, GOOD)

    provenance = result["provenance"]
    assert provenance["code_sha256"] == job["code"]["sha256"]
    assert provenance["train_sha256"] == job["data"]["train_sha256"]
    assert provenance["config_sha256"] == "c" * 64
    assert provenance["cv_seed"] == job["cv"]["seed"]
    assert "scikit-learn==1.9.1" in provenance["installed"]
    listed = "\n".join(provenance["installed"]).encode()
    assert provenance["packages_sha256"] == hashlib.sha256(listed).hexdigest()
    started = datetime.fromisoformat(provenance["started_at"])
    assert started <= datetime.fromisoformat(provenance["ended_at"])
    assert provenance["worker"] == result["worker"]


def test_the_runs_artifacts_are_stored_under_its_manifest(tmp_path: Path) -> None:
    result, store, job = judged(tmp_path, NOISY)

    assert result["ok"], result["reason"]
    stored = result["artifacts"]
    manifest = json.loads(store.read_bytes(stored["run"]))
    assert manifest["job"] == job
    assert manifest["artifacts"] == {k: v for k, v in stored.items() if k != "run"}
    predictions = np.load(io.BytesIO(store.read_bytes(stored["predictions"])), allow_pickle=False)
    assert predictions.tolist() == result["test_predictions"]
    assert "hello from fit time" in store.read_bytes(stored["logs"]).decode()
    # Our own test's model, so unpickling it here is safe; the platform never does.
    model = pickle.loads(store.read_bytes(stored["model"]))  # noqa: S301
    assert type(model["estimator"]).__name__ == "LogisticRegression"
    assert hasattr(model["estimator"], "coef_")  # fitted


def test_a_model_that_does_not_pickle_is_left_out_and_the_run_still_scores(
    tmp_path: Path,
) -> None:
    unpicklable = GOOD.replace(
        "return LogisticRegression(max_iter=500)",
        "model = LogisticRegression(max_iter=500)\n    model.hook = lambda: None\n    return model",
    )

    result, _, _ = judged(tmp_path, unpicklable)

    assert result["ok"], result["reason"]
    assert "model" not in result["artifacts"]
    assert "predictions" in result["artifacts"]


def test_a_model_over_two_megabytes_is_not_kept(tmp_path: Path) -> None:
    bulky = GOOD.replace(
        "return LogisticRegression(max_iter=500)",
        "model = LogisticRegression(max_iter=500)\n"
        "    model.ballast = bytes(3 * 2**20)\n"
        "    return model",
    )

    result, _, _ = judged(tmp_path, bulky)

    assert result["ok"], result["reason"]
    assert "model" not in result["artifacts"]
