"""What the sandbox's code says about itself cannot raise its scores or lower
its costs: no label of a row it is scored on is within its reach, CPU and memory
come from the kernel's cgroup, and times it inflates are cut to what the
outside measured, which the result says."""

from __future__ import annotations

from pathlib import Path

from tests.judge_kits import GOOD, estimator_doing, judge
from worker_wing.judge import sandbox

HONEST = """\
from sklearn.dummy import DummyClassifier


def get_estimator():
    return DummyClassifier(strategy="most_frequent")
"""

# Every way to the validation labels a student could try: the files under /job,
# the runner's memory (its globals and every Series alive in the process), and
# the runner and metric patched to report perfect scores.
FORGER = """\
import gc, glob
import numpy as np
import pandas as pd
import sklearn.metrics
import worker_wing.judge.runner_steps as runner_steps
from sklearn.dummy import DummyClassifier

KNOWN = {}


def steal():
    for path in glob.glob('/job/**/*.parquet', recursive=True):
        frame = pd.read_parquet(path)
        if 'target' in frame.columns:
            KNOWN.update(frame['target'].to_dict())
    for thing in gc.get_objects():
        if isinstance(thing, pd.Series) and thing.name == 'target':
            KNOWN.update(thing.to_dict())
    sklearn.metrics.accuracy_score = lambda *args, **kwargs: 1.0
    runner_steps.as_column = lambda predictions: np.asarray(predictions)


class Forger(DummyClassifier):
    def fit(self, X, y):
        steal()
        return super().fit(X, y)

    def predict(self, X):
        fallback = super().predict(X)
        return np.array([KNOWN.get(row, label) for row, label in zip(X.index, fallback)])


def get_estimator():
    return Forger(strategy="most_frequent")
"""


def test_a_forged_runner_gets_the_honest_cross_validation_scores(tmp_path: Path) -> None:
    honest = judge(tmp_path, HONEST)
    forged = judge(tmp_path, FORGER)

    assert honest["ok"] is True, honest["reason"]
    assert forged["ok"] is True, forged["reason"]
    assert [f["score"] for f in forged["folds"]] == [f["score"] for f in honest["folds"]]
    assert forged["cv_mean"] == honest["cv_mean"] < 0.5


def test_inflated_times_are_cut_to_the_measured_ones_and_said(tmp_path: Path) -> None:
    # The runner times fit and predict with time.monotonic: made to run 1000x fast.
    inflate = estimator_doing(
        "real = time.monotonic\n"
        "time.monotonic = lambda: real() * 1000\n"
        "time.thread_time = lambda: 10**6"
    )

    result = judge(tmp_path, inflate)

    assert result["ok"] is True, result["reason"]
    assert result["provenance"]["clamped"], result["provenance"]
    assert result["fit_seconds"] <= result["wall_seconds"]
    assert all(
        step["cpu_seconds"] <= result["cpu_seconds"]
        for step in result["configurations"][0]["steps"]
    )
    assert result["cpu_seconds"] < 60  # the cgroup's figure, not the forged 10**6


def test_cpu_and_memory_come_from_the_cgroup_not_the_students_process(tmp_path: Path) -> None:
    # Children the student starts and waits for are invisible to its own rusage.
    code = estimator_doing(
        "import subprocess\n"
        "subprocess.run([sys.executable, '-c', "
        "'b = bytearray(200 * 2**20)\\nfor i in range(0, len(b), 4096): b[i] = 1'])"
    )

    result = judge(tmp_path, code)

    assert result["ok"] is True, result["reason"]
    assert result["peak_memory_mb"] >= 200
    assert all(fold["peak_memory_mb"] >= 200 for fold in result["folds"])


def test_a_new_sandboxs_imports_are_not_charged_to_its_first_job(tmp_path: Path) -> None:
    # The zygote imports numpy, pandas and scikit-learn (about a second of CPU)
    # before it says it is ready; only then does the job's accounting start.
    cold = judge(tmp_path, HONEST)  # a sandbox started for this job
    warm = judge(tmp_path, HONEST)  # the same participant's sandbox, reused

    assert sandbox.kept_boxes()[-1].jobs == 2
    assert cold["cpu_seconds"] < warm["cpu_seconds"] + 0.5, (cold, warm)


def test_figures_the_students_code_wrote_itself_fail_the_run_with_a_reason(
    tmp_path: Path,
) -> None:
    # Through the runner's own descriptor: a report of the fold's figures nested
    # too deep to parse, then an exit before the runner could write the true one.
    code = estimator_doing(
        "from worker_wing.judge.runner_files import FOLD_FILES\n"
        "os.write(FOLD_FILES.result, b'[' * 100000)\nos._exit(0)"
    )

    result = judge(tmp_path, code)

    assert result["ok"] is False
    assert "not as the judge's runner writes them" in result["reason"], result["reason"]
    assert judge(tmp_path, GOOD)["ok"] is True
