"""The sandbox shows a job nothing of the worker (its files, its store, the other
jobs), refuses to run without bubblewrap unless told so, and measures the CPU
time and memory of the student's code."""

from __future__ import annotations

from pathlib import Path

from judging.sandbox import SandboxConfig
from tests.judge_kits import GOOD, LIMITS, estimator_doing, judge


def test_the_workers_files_and_store_are_not_there(tmp_path: Path) -> None:
    secret = tmp_path / "labels.csv"
    secret.write_text("row_id,target\n")
    readme = Path(__file__).resolve().parent.parent / "README.md"
    peeks = [
        f"os.listdir({str(tmp_path / 'artifacts')!r})",
        f"open({str(secret)!r}).read()",
        f"open({str(readme)!r}).read()",
    ]

    for path_check in peeks:
        result = judge(tmp_path, estimator_doing(path_check))
        assert "raised FileNotFoundError" in result["reason"], (path_check, result["reason"])


def test_a_warm_sandbox_starts_clean_for_each_job(tmp_path: Path) -> None:
    warm = SandboxConfig(prewarm=True, work_root=str(tmp_path))
    leave = estimator_doing("open('/tmp/left-behind', 'w').write('x')")
    find = estimator_doing("assert not os.path.exists('/tmp/left-behind'), 'found it'")

    first = judge(tmp_path, leave, sandbox=warm)
    second = judge(tmp_path, find, sandbox=warm)

    assert first["ok"] is True
    assert second["ok"] is True, second["reason"]


def test_without_bubblewrap_the_worker_refuses_and_says_how_to_fix_it(tmp_path: Path) -> None:
    missing = SandboxConfig(bwrap=str(tmp_path / "no-bwrap"), work_root=str(tmp_path))

    result = judge(tmp_path, GOOD, sandbox=missing)

    assert result["ok"] is False
    assert result["transient"] is True
    assert "cannot sandbox student code" in result["reason"]
    assert "PPIPE_SANDBOX=none" in result["reason"]


def test_an_explicit_none_runs_without_a_sandbox(tmp_path: Path) -> None:
    unsandboxed = SandboxConfig(mode="none", prewarm=False, work_root=str(tmp_path))

    result = judge(tmp_path, GOOD, sandbox=unsandboxed)

    assert result["ok"] is True, result["reason"]
    assert result["provenance"]["sandbox"] == "none"


def test_cpu_time_and_memory_of_the_students_code_are_measured(tmp_path: Path) -> None:
    burn = "end = time.process_time() + 0.5\nwhile time.process_time() < end:\n    pass"
    hold = "b = bytearray(300 * 2**20)\nfor i in range(0, len(b), 4096):\n    b[i] = 1"

    burnt = judge(tmp_path, estimator_doing(burn))
    held = judge(tmp_path, estimator_doing(hold), limits={**LIMITS, "memory_mb": 1024})

    # Three folds of half a second each, and what the libraries add on top.
    assert 1.4 <= burnt["cpu_seconds"] < 4
    assert all(fold["cpu_seconds"] >= 0.45 for fold in burnt["folds"])
    assert held["peak_memory_mb"] >= 300
    assert all(fold["peak_memory_mb"] >= 300 for fold in held["folds"])
