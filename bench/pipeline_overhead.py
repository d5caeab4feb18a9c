"""Pipeline judging overhead: the same model judged as one estimator.py, as a
three-step pipeline zip (pairs -> scale -> logistic, the estimator's steps),
and as that pipeline with inference in batches of 256 rows, against
scikit-learn's `cross_validate` of the same make_pipeline on the same folds in
this process (the baseline, in the same run). What a pipeline costs over an
estimator is running its steps one by one with per-step timing, checks and
memory windows; batches cost one call of each step per batch.

    .venv/bin/python bench/pipeline_overhead.py [--repeat 3] [--rows 100000]
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import sys
import time
import zipfile
from pathlib import Path

for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[name] = "1"  # the same thread count as a judge job
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ppipe_site.settings")

import pandas as pd  # noqa: E402
from harness import bench_temp_dir  # noqa: E402
from judge_overhead import LOGISTIC_ON_PAIRS, baseline_seconds, job_for  # noqa: E402
from sklearn.datasets import make_classification  # noqa: E402

from worker_wing.content_store import ContentStore  # noqa: E402
from worker_wing.judge.executor import execute_judge_job  # noqa: E402
from worker_wing.judge.sandbox import SandboxConfig  # noqa: E402
from worker_wing.pipeline.check import pipeline_upload_check  # noqa: E402
from worker_wing.pipeline.plan import submission_plans  # noqa: E402

PIPELINE = {
    "pipeline.yaml": """\
steps:
  - {name: pairs, run: steps.py:pairs, inputs: [X], outputs: [paired]}
  - {name: scale, run: steps.py:scale, inputs: [paired], outputs: [features]}
  - {name: model, run: steps.py:model, inputs: [features, y], outputs: [predictions]}
""",
    # The estimator's make_pipeline, one step each.
    "steps.py": """\
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import PolynomialFeatures, StandardScaler


def pairs():
    return PolynomialFeatures(2)


def scale():
    return StandardScaler()


def model():
    return LogisticRegression(max_iter=1000)
""",
}
ESTIMATOR = LOGISTIC_ON_PAIRS


def pipeline_job(store: ContentStore, frame: pd.DataFrame, batch_size: int) -> dict[str, object]:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in PIPELINE.items():
            archive.writestr(name, text)
    content = buffer.getvalue()
    plans = submission_plans(
        pipeline_upload_check(content), configuration=None, sweep=False, max_configurations=1
    )
    job = job_for(store, "", frame)
    job["code"] = {"sha256": store.put_bytes(content), "filename": "p.zip", "kind": "pipeline"}
    job["plans"] = list(plans)
    job["batch_size"] = batch_size
    return job


def timed(job: dict[str, object], store: ContentStore, config: SandboxConfig) -> float:
    time.sleep(2)  # an idle worker: its spare sandbox is warm by now
    started = time.perf_counter()
    result = execute_judge_job(job, artifacts=store, sandbox=config)
    elapsed = time.perf_counter() - started
    assert result["ok"], result["reason"]
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    work = bench_temp_dir("ppipe-bench-pipeline-")
    store = ContentStore(work / "artifacts")
    config = SandboxConfig(prewarm=True, work_root=str(work))
    x, y = make_classification(n_samples=int(args.rows / 0.8), n_features=20, random_state=0)
    frame = pd.DataFrame(x, columns=[f"f{i}" for i in range(20)]).assign(target=y)
    jobs = {
        "estimator.py": job_for(store, ESTIMATOR, frame),
        "pipeline, 3 steps": pipeline_job(store, frame, 0),
        "pipeline, batches of 256": pipeline_job(store, frame, 256),
    }
    for job in jobs.values():
        execute_judge_job(job, artifacts=store, sandbox=config)  # caches inputs, warms
    bare = statistics.median(baseline_seconds(ESTIMATOR, frame) for _ in range(args.repeat))
    print(f"{args.rows} training rows, 5 folds; cross_validate (baseline): {bare:.2f} s")
    print("{:26} {:>8} {:>6} {:>7}".format("judged as", "ppipe", "ratio", "extra"))
    for name, job in jobs.items():
        ours = statistics.median(timed(job, store, config) for _ in range(args.repeat))
        print(f"{name:26} {ours:7.2f}s {ours / bare:6.2f} {ours - bare:6.2f}s", flush=True)


if __name__ == "__main__":
    main()
