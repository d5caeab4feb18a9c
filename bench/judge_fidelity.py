"""Measurement fidelity: the CPU time and peak memory the judge executor reports
for a submission, against `/usr/bin/time -v` running the same work bare (the
same folds, fit and predict, in a fresh Python).

The judge reads both from the sandbox's cgroup, from the moment its zygote has
imported the libraries, so its CPU figure has no start-up in it; the bare run's
CPU time has the start-up of a Python that imports them subtracted (measured
the same way in the same run). The cgroup's memory holds the zygote's imported
libraries, as a bare Python's resident memory does.
Targets: CPU within 5 %, peak memory within 10 %.

    .venv/bin/python bench/judge_fidelity.py
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[name] = "1"
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ppipe_site.settings")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from harness import bench_temp_dir  # noqa: E402
from sklearn.datasets import make_classification  # noqa: E402

from tests.judge_kits import frames_job  # noqa: E402
from worker_wing.content_store import ContentStore  # noqa: E402
from worker_wing.judge.executor import execute_judge_job  # noqa: E402
from worker_wing.judge.job_inputs import cv_folds, fold_of_each_row  # noqa: E402
from worker_wing.judge.sandbox import SandboxConfig  # noqa: E402

CODE = """\
from sklearn.ensemble import RandomForestClassifier


def get_estimator():
    return RandomForestClassifier(n_estimators=60, random_state=0)
"""
IMPORTS = "import numpy, pandas, sklearn.ensemble, sklearn.linear_model, sklearn.pipeline"
BARE = textwrap.dedent(
    """
    import sys
    import numpy as np, pandas as pd
    {imports}
    sys.path.insert(0, sys.argv[1])
    import estimator
    train = pd.read_parquet(sys.argv[1] + "/train.parquet")
    test = pd.read_parquet(sys.argv[1] + "/test.parquet")
    fold_of = np.load(sys.argv[1] + "/folds.npy")
    x, y = train.drop(columns=["target"]), train["target"]
    for index in range(fold_of.max() + 1):
        mask = fold_of == index
        model = estimator.get_estimator()
        model.fit(x[~mask], y[~mask])
        model.predict(x[mask])
        model.predict(test)
    """
)


def time_v(command: list[str]) -> tuple[float, float]:
    """(user + system seconds, maximum resident MB) as /usr/bin/time -v reports them."""
    done = subprocess.run(
        ["/usr/bin/time", "-v", *command], capture_output=True, text=True, check=True
    )
    user = float(re.search(r"User time \(seconds\): ([\d.]+)", done.stderr).group(1))  # type: ignore[union-attr]
    system = float(re.search(r"System time \(seconds\): ([\d.]+)", done.stderr).group(1))  # type: ignore[union-attr]
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr).group(1))  # type: ignore[union-attr]
    return user + system, rss / 1024


def main() -> None:
    work = bench_temp_dir("ppipe-bench-fidelity-")
    store = ContentStore(work / "artifacts")
    x, y = make_classification(n_samples=6000, n_features=20, random_state=0)
    frame = pd.DataFrame(x, columns=[f"f{i}" for i in range(20)]).assign(target=y)
    train, test = frame.iloc[:5000], frame.iloc[5000:].drop(columns=["target"])
    limits = {
        "cpu_seconds": 600,
        "memory_mb": 4096,
        "wall_seconds": 600,
        "processes": 64,
        "file_mb": 64,
    }
    job = frames_job(store, CODE, train, test, folds=5, seed=0, limits=limits)
    result = execute_judge_job(
        job, artifacts=store, sandbox=SandboxConfig(prewarm=False, work_root=str(work))
    )
    assert result["ok"], result["reason"]

    bare = work / "bare"
    bare.mkdir()
    train.to_parquet(bare / "train.parquet", index=False)
    test.to_parquet(bare / "test.parquet", index=False)
    folds = cv_folds(train["target"], "classification", 5, 0)
    np.save(bare / "folds.npy", fold_of_each_row(folds, len(train)))
    (bare / "estimator.py").write_text(CODE)
    (bare / "run.py").write_text(BARE.format(imports=IMPORTS))
    startup_cpu, _ = time_v([sys.executable, "-c", IMPORTS + ", pyarrow"])
    bare_cpu, bare_rss = time_v([sys.executable, str(bare / "run.py"), str(bare)])
    work_cpu = bare_cpu - startup_cpu

    print(
        f"CPU seconds : ppipe {result['cpu_seconds']:.2f}  /usr/bin/time {work_cpu:.2f} "
        f"(run {bare_cpu:.2f} - start-up {startup_cpu:.2f})  "
        f"ratio {result['cpu_seconds'] / work_cpu:.3f}  (target 0.95-1.05)"
    )
    print(
        f"peak memory : ppipe {result['peak_memory_mb']:.0f} MB  /usr/bin/time {bare_rss:.0f} MB  "
        f"ratio {result['peak_memory_mb'] / bare_rss:.3f}  (target 0.90-1.10)"
    )


if __name__ == "__main__":
    main()
