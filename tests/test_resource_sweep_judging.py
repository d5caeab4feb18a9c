"""A resource sweep judged in real bubblewrap: each configuration runs on the cores
and batch size it names, in a box whose cgroup is confined to those cores, and its
row says what was granted, with its wall time and throughput; configurations asking
for more cores than the worker has are not run, each with the reason."""

from __future__ import annotations

from pathlib import Path

from tests.judge_kits import LIMITS, estimator_doing, judge
from tests.pipeline_kits import MODEL_PY, SCALE_PY, SCALE_THEN_MODEL, judge_pipeline
from worker_wing.judge.job_format import ESTIMATOR_PLAN
from worker_wing.judge.resource_sweep import not_runnable, worker_cores

# Eight processes each burning 0.2 s of CPU a fold, whatever the judge grants.
SPINNERS = """\
import os, time
from sklearn.dummy import DummyClassifier


def spin(seconds):
    until = time.process_time() + seconds
    while time.process_time() < until:
        pass


class Greedy(DummyClassifier):
    def fit(self, X, y):
        children = [os.fork() for _ in range(7) if os.getpid() == PARENT[0]]
        spin(0.2)
        if 0 in children or os.getpid() != PARENT[0]:
            os._exit(0)
        for child in children:
            os.waitpid(child, 0)
        return super().fit(X, y)


PARENT = [os.getpid()]


def get_estimator():
    PARENT[0] = os.getpid()
    return Greedy()
"""


def test_each_configuration_runs_on_its_cores_and_batch_size(tmp_path: Path) -> None:
    too_many = worker_cores() + 1
    result, _ = judge_pipeline(
        tmp_path,
        SCALE_THEN_MODEL,
        {"scale.py": SCALE_PY, "model.py": MODEL_PY},
        sweep=True,
        cores=[1, 2, too_many],
        batch_sizes=[1, 40],
        folds=2,
    )

    assert result["ok"], result["reason"]
    rows = result["configurations"]
    # Two confined runs (1 core, then 2), their reports joined in the plans' order.
    assert [(row["cores"], row["batch_size"]) for row in rows] == [
        (1, 1),
        (1, 40),
        (1, 1),
        (1, 40),
        (2, 1),
        (2, 40),
        (2, 1),
        (2, 40),
    ]
    models = [row["configuration"]["model"] for row in rows]
    assert models == ["dummy", "dummy", "logistic", "logistic"] * 2
    # Each row scored with its own predictions: the dummy's are the weak ones.
    for model, row in zip(models, rows, strict=True):
        assert (row["cv_mean"] < 0.5) == (model == "dummy"), row
    # 120 training rows in 2 folds: 60 validation rows and 30 test rows a fold.
    assert [row["batches"] for row in rows] == [180, 6] * 4
    for row in rows:
        assert row["throughput_rows_per_second"] > 0
        assert row["wall_seconds"] > 0
    assert rows[result["chosen"]]["configuration"]["model"] == "logistic"
    assert [(row["cores"], row["batch_size"]) for row in result["not_run"]] == [
        (too_many, 1),
        (too_many, 40),
    ] * 2
    assert (
        f"asks for {too_many} cores; this judge worker has {worker_cores()}"
        in (result["not_run"][0]["reason"])
    )


def test_a_configuration_granted_one_core_cannot_use_two(tmp_path: Path) -> None:
    result = judge(tmp_path, SPINNERS, plans=[{**ESTIMATOR_PLAN, "cores": 1}], folds=2)

    assert result["ok"], result["reason"]
    (row,) = result["configurations"]
    assert row["cores"] == 1
    # Measured from the cgroup: eight spinning processes get one core's time between them
    # (on an idle machine, unconfined, they take nearly two).
    assert row["cpu_seconds"] <= row["wall_seconds"] * 1.15 + 0.2, row


def test_a_sweep_none_of_which_can_run_here_fails_saying_why(tmp_path: Path) -> None:
    too_many = worker_cores() + 1
    result = judge(tmp_path, SPINNERS, plans=[{**ESTIMATOR_PLAN, "cores": too_many}])

    assert not result["ok"]
    assert not result["transient"]
    assert result["reason"] == (
        "no configuration of the sweep can run on this judge worker: configuration 1 asks "
        f"for {too_many} cores; this judge worker has {worker_cores()}"
    )


def test_the_core_counts_of_a_sweep_share_the_jobs_one_cpu_budget(tmp_path: Path) -> None:
    burner = estimator_doing(
        "until = time.process_time() + 0.8\nwhile time.process_time() < until:\n    pass"
    )
    plans = [{**ESTIMATOR_PLAN, "cores": 1}, {**ESTIMATOR_PLAN, "cores": 2}]
    limits = {**LIMITS, "cpu_seconds": 2}

    result = judge(tmp_path, burner, plans=plans, folds=2, limits=limits)

    # Each core count's run alone (1.6 s of burning) stays within the limit (2 s, and
    # the sandbox's 0.5 s of slack); both together (3.2 s) do not.
    assert not result["ok"]
    assert result["reason"].startswith("CPU time limit of 2 s exceeded"), result["reason"]


def test_a_worker_that_cannot_confine_cores_runs_only_the_unconfined() -> None:
    plans = [{**ESTIMATOR_PLAN}, {**ESTIMATOR_PLAN, "cores": 1}, {**ESTIMATOR_PLAN, "cores": 9}]

    skipped = not_runnable(plans, cores=2, confine_problem="the cpu controller is not mounted")

    assert [(n.index, n.reason) for n in skipped] == [
        (1, "this judge worker cannot confine a run to 1 cores: the cpu controller is not mounted"),
        (2, "asks for 9 cores; this judge worker has 2"),
    ]
