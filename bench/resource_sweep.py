"""Resource sweeps: a 3 x 3 x 3 sweep (three model versions x three core counts x
three batch sizes) judged as ONE job, against its configurations judged one by one
(a job each, the baseline, in the same run); and, from the sweep's own figures,
what 2 cores give over 1 for a threaded model (`--model boosting`: histogram
gradient boosting, whose OpenMP threads the judge sets to the granted cores;
`--model forest`: a random forest with n_jobs=-1, joblib's threads).

A core count above what this machine has is not run (the judge says why), in the
sweep and one by one alike, so both sides time the same configurations.

    .venv/bin/python bench/resource_sweep.py [--rows 4000] [--cores 1,2,4] [--repeat 3]
        [--batch-sizes 1,32,256] [--model boosting|forest]
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
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ppipe_site.settings")

import pandas as pd
from harness import bench_temp_dir
from sklearn.datasets import make_classification

from tests.judge_kits import frames_job
from worker_wing.content_store import ContentStore
from worker_wing.judge.executor import execute_judge_job
from worker_wing.judge.resource_sweep import worker_cores
from worker_wing.judge.sandbox import SandboxConfig
from worker_wing.pipeline.check import pipeline_upload_check
from worker_wing.pipeline.plan import submission_plans

# The three versions of the model step, in the pipeline's code. `boosting`:
# histogram gradient boosting of 25, 75 and 150 iterations (OpenMP, whose threads
# the judge sets to the granted cores). `forest`: random forests of 25, 50 and 100
# trees with n_jobs=-1 (joblib's threads, as many as the cores granted).
MODELS = {
    "boosting": """\
from sklearn.ensemble import HistGradientBoostingClassifier


def version(size):
    return HistGradientBoostingClassifier(max_iter=25 * size, early_stopping=False)
""",
    "forest": """\
from sklearn.ensemble import RandomForestClassifier


def version(size):
    return RandomForestClassifier(n_estimators=25 * size, n_jobs=-1, random_state=0)
""",
}
VERSIONS = """

def small():
    return version(1)


def medium():
    return version(3 if BOOSTING else 2)


def large():
    return version(6 if BOOSTING else 4)
"""
PIPELINE_YAML = """\
steps:
  - name: model
    inputs: [X, y]
    outputs: [predictions]
    alternatives: {small: model.py:small, medium: model.py:medium, large: model.py:large}
"""


def pipeline(model: str) -> dict[str, str]:
    code = f"BOOSTING = {model == 'boosting'}\n{MODELS[model]}{VERSIONS}"
    return {"pipeline.yaml": PIPELINE_YAML, "model.py": code}


LIMITS = {"cpu_seconds": 3600, "memory_mb": 4096, "wall_seconds": 3600, "processes": 64}


def sweep_job(
    store: ContentStore,
    frame: pd.DataFrame,
    cores: list[int],
    batch_sizes: list[int],
    model: str,
) -> dict[str, Any]:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in pipeline(model).items():
            archive.writestr(name, text)
    content = buffer.getvalue()
    plans = submission_plans(
        pipeline_upload_check(content),
        configuration=None,
        sweep=True,
        max_configurations=64,
        cores=cores,
        batch_sizes=batch_sizes,
    )
    cut = int(len(frame) * 0.8)
    job = frames_job(
        store, "", frame.iloc[:cut], frame.iloc[cut:], folds=3, limits={**LIMITS, "file_mb": 64}
    )
    job["code"] = {"sha256": store.put_bytes(content), "filename": "p.zip", "kind": "pipeline"}
    job["plans"] = list(plans)
    return job


def judged(job: dict[str, Any], store: ContentStore, config: SandboxConfig) -> dict[str, Any]:
    return dict(execute_judge_job(job, artifacts=store, sandbox=config))  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=4000)
    parser.add_argument("--cores", default="1,2,4")
    parser.add_argument("--batch-sizes", default="1,32,256")
    parser.add_argument("--repeat", type=int, default=3, help="pairs for the speed-up")
    parser.add_argument("--model", choices=sorted(MODELS), default="boosting")
    args = parser.parse_args()
    cores = [int(part) for part in args.cores.split(",")]
    batch_sizes = [int(part) for part in args.batch_sizes.split(",")]
    work = bench_temp_dir("ppipe-bench-sweep-")
    store = ContentStore(work / "artifacts")
    config = SandboxConfig(prewarm=True, work_root=str(work))
    x, y = make_classification(n_samples=args.rows, n_features=40, random_state=0)
    frame = pd.DataFrame(x, columns=[f"f{i}" for i in range(40)]).assign(target=y)
    job = sweep_job(store, frame, cores, batch_sizes, args.model)
    plans = job["plans"]
    print(
        f"{len(plans)} configurations ({args.model}: 3 versions x {len(cores)} core counts x "
        f"{len(batch_sizes)} batch sizes), {args.rows} rows, 3 folds; this machine has "
        f"{worker_cores()} cores; load average {os.getloadavg()[0]:.2f}",
        flush=True,
    )
    judged({**job, "plans": plans[:1]}, store, config)  # caches the inputs, warms the nursery

    started = time.perf_counter()
    sweep = judged(job, store, config)
    sweep_seconds = time.perf_counter() - started
    assert sweep["ok"], sweep["reason"]
    started = time.perf_counter()
    alone = [judged({**job, "plans": [plan]}, store, config) for plan in plans]
    one_by_one = time.perf_counter() - started
    ran = len(sweep["configurations"])
    assert sum(1 for result in alone if result["ok"]) == ran
    why = sweep["not_run"][0]["reason"] if ran < len(plans) else "-"
    print(f"not run: {len(sweep['not_run'])} ({why})")
    print(f"sweep, one job:        {sweep_seconds:7.1f} s for {ran} configurations")
    ratio = one_by_one / sweep_seconds
    print(f"one by one, {len(plans)} jobs:  {one_by_one:7.1f} s  (ratio {ratio:.2f})")
    header = ("version", "batch", "cores", "fit s", "p95 ms", "rows/s", "CPU s", "wall s")
    print("\n{:8} {:>5} {:>5} {:>7} {:>8} {:>9} {:>6} {:>7}".format(*header))
    rows = sweep["configurations"]
    for row in rows:
        print(
            f"{row['configuration']['model']:8} {row['batch_size']:5} {row['cores']:5} "
            f"{row['fit_seconds']:7.2f} {row['latency_p95_ms']:8.2f} "
            f"{row['throughput_rows_per_second']:9.0f} {row['cpu_seconds']:6.2f} "
            f"{row['wall_seconds']:7.2f}"
        )
    by = {(r["configuration"]["model"], r["batch_size"], r["cores"]): r for r in rows}
    print("\n2 cores against 1 (same version and batch size): fit time, throughput")
    for version in ("small", "medium", "large"):
        for batch in batch_sizes:
            one, two = by.get((version, batch, 1)), by.get((version, batch, 2))
            if one and two:
                fit = one["fit_seconds"] / two["fit_seconds"]
                rate = two["throughput_rows_per_second"] / one["throughput_rows_per_second"]
                print(f"{version:8} batch {batch:4}: fit x{fit:.2f}, throughput x{rate:.2f}")
    # The sweep runs its core counts one after the other, and a shared machine's load
    # changes meanwhile: the speed-up is measured again on jobs of the large version
    # at the largest batch size, 1 core and 2 cores alternately.
    large = [
        plan
        for plan in plans
        if plan["configuration"]["model"] == "large" and plan["batch_size"] == batch_sizes[-1]
    ]
    by_cores = {plan["cores"]: plan for plan in large}
    if 1 in by_cores and 2 in by_cores and worker_cores() >= 2:
        fits: list[float] = []
        rates: list[float] = []
        for _ in range(args.repeat):
            one, two = (
                judged({**job, "plans": [by_cores[cores]]}, store, config)["configurations"][0]
                for cores in (1, 2)
            )
            fits.append(one["fit_seconds"] / two["fit_seconds"])
            rates.append(two["throughput_rows_per_second"] / one["throughput_rows_per_second"])
        fit, rate = statistics.median(fits), statistics.median(rates)
        verdict = "measurable" if fit > 1.2 else "NOT measurable (a loaded machine?)"
        print(
            f"\nlarge version, batch {batch_sizes[-1]}, 1 and 2 cores alternately "
            f"(x{args.repeat}, medians): fit x{fit:.2f}, throughput x{rate:.2f}: {verdict}; "
            f"load average {os.getloadavg()[0]:.2f}"
        )


if __name__ == "__main__":
    main()
