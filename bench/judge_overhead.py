"""Judging overhead: a submission through the judge executor (warm bubblewrap
sandbox, fold predictions checked and scored on the trusted side, test
predictions bagged) against scikit-learn's `cross_validate` of the same
estimator on the same folds in this process. Prints, for a tiny and a ~10 s
workload of a LogisticRegression and a RandomForest, the ratio and the extra
seconds. Targets: <= 1.15x at ~10 s, <= 0.5 s extra for a tiny job.

    .venv/bin/python bench/judge_overhead.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[name] = "1"  # the same thread count as a judge job
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ppipe_site.settings")

import pandas as pd  # noqa: E402
from sklearn.datasets import make_classification  # noqa: E402
from sklearn.model_selection import StratifiedKFold, cross_validate  # noqa: E402

from judging.executor import execute_judge_job  # noqa: E402
from judging.sandbox import SandboxConfig  # noqa: E402
from ppipe_site.content_store import ContentStore  # noqa: E402
from tests.judge_kits import frames_job  # noqa: E402

ESTIMATORS = {
    "LogisticRegression": (
        "from sklearn.linear_model import LogisticRegression\n"
        "def get_estimator():\n    return LogisticRegression(max_iter=1000)\n"
    ),
    "RandomForest": (
        "from sklearn.ensemble import RandomForestClassifier\n"
        "def get_estimator():\n"
        "    return RandomForestClassifier(n_estimators=100, random_state=0)\n"
    ),
}
# Rows of training data: tiny, and about 10 s of fitting on 5 folds here.
SIZES = {"LogisticRegression": (300, 400_000), "RandomForest": (300, 25_000)}


def job_for(store: ContentStore, code: str, frame: pd.DataFrame) -> dict[str, object]:
    train, test = frame.iloc[: int(len(frame) * 0.8)], frame.iloc[int(len(frame) * 0.8) :]
    limits = {
        "cpu_seconds": 600,
        "memory_mb": 8192,
        "wall_seconds": 900,
        "processes": 64,
        "file_mb": 64,
    }
    return frames_job(store, code, train, test, folds=5, seed=0, limits=limits)


def baseline_seconds(code: str, frame: pd.DataFrame) -> float:
    namespace: dict[str, object] = {}
    exec(code, namespace)  # noqa: S102 - our own benchmark estimator
    train = frame.iloc[: int(len(frame) * 0.8)]
    x, y = train.drop(columns=["target"]), train["target"]
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    started = time.perf_counter()
    cross_validate(namespace["get_estimator"](), x, y, cv=folds, scoring="accuracy")  # type: ignore[operator]
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ppipe-bench-judge-"))
    store = ContentStore(work / "artifacts")
    config = SandboxConfig(prewarm=True, work_root=str(work))
    header = ("estimator", "rows", "cross_validate", "ppipe", "ratio", "extra")
    print("{:20} {:>8} {:>15} {:>8} {:>6} {:>7}".format(*header))
    for name, code in ESTIMATORS.items():
        for rows in SIZES[name]:
            x, y = make_classification(n_samples=int(rows / 0.8), n_features=20, random_state=0)
            frame = pd.DataFrame(x, columns=[f"f{i}" for i in range(20)]).assign(target=y)
            job = job_for(store, code, frame)
            execute_judge_job(job, artifacts=store, sandbox=config)  # caches inputs, warms
            bare, ours = [], []
            for _ in range(args.repeat):
                bare.append(baseline_seconds(code, frame))
                time.sleep(2)  # an idle worker: its spare sandbox is warm by now
                started = time.perf_counter()
                result = execute_judge_job(job, artifacts=store, sandbox=config)
                ours.append(time.perf_counter() - started)
                assert result["ok"], result["reason"]
            b, o = statistics.median(bare), statistics.median(ours)
            print(
                f"{name:20} {rows:8d} {b:14.2f}s {o:7.2f}s {o / b:6.2f} {o - b:6.2f}s", flush=True
            )


if __name__ == "__main__":
    main()
