"""A fold starts where a warm Python would: the libraries' first calls (modules
they import only then) were made once by the sandbox's zygote, before any job
(worker_wing/judge/runner_warm.py), not again by every fold of every job."""

from __future__ import annotations

from pathlib import Path

from tests.judge_kits import estimator_doing, judge

# Imported by scikit-learn's first check of a DataFrame, not by importing it.
FIRST_CALL_MODULES = ("narwhals._pandas_like.namespace", "narwhals._pandas_like.dataframe")


def test_a_fold_finds_the_libraries_first_calls_made(tmp_path: Path) -> None:
    check = estimator_doing(
        f"missing = [m for m in {FIRST_CALL_MODULES!r} if m not in sys.modules]\n"
        "assert not missing, 'imported by this fold: ' + repr(missing)"
    )

    result = judge(tmp_path, check)

    assert result["ok"] is True, result["reason"]
