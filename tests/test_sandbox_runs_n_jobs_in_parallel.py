"""scikit-learn's n_jobs works in the sandbox: joblib finds it may run in parallel
(it decides once, when the nursery imports it, by making a semaphore in /dev/shm),
and n_jobs=-1 means the threads the job is granted, not the machine's CPUs."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.judge_kits import estimator_doing, judge


@pytest.mark.parametrize("threads", [1, 2])
def test_joblib_runs_in_parallel_on_the_threads_granted(tmp_path: Path, threads: int) -> None:
    code = estimator_doing(
        "import joblib, joblib._multiprocessing_helpers as helpers\n"
        "assert helpers.mp is not None, 'joblib runs everything serially'\n"
        f"assert joblib.cpu_count() == {threads}, joblib.cpu_count()\n"
        f"assert joblib.Parallel(n_jobs=-1)._effective_n_jobs() == {threads}\n"
    )

    result = judge(tmp_path, code, threads=threads)

    assert result["ok"] is True, result["reason"]
