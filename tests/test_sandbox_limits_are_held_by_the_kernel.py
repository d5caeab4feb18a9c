"""The job's cgroup bounds what rlimits alone let a student escape: CPU burnt in
one child after another, processes past the limit, and memory held in tmpfs
files. Each fails with the reason of the limit it passed.

The wall limits here are far above what the work takes, so the limit under
test is the one that trips, however loaded the machine is.
"""

from __future__ import annotations

from pathlib import Path

from tests.judge_kits import GOOD, LIMITS, estimator_doing, judge

SLOW_WALL = {**LIMITS, "wall_seconds": 300}


def test_cpu_burnt_in_sequential_children_counts_and_trips_the_cpu_limit(
    tmp_path: Path,
) -> None:
    # Each child stays far below the per-process RLIMIT_CPU; together they do not.
    burn = "import time\\nend = time.process_time() + 1\\nwhile time.process_time() < end: pass"
    code = estimator_doing(
        "import subprocess\n"
        f"for _ in range(10):\n    subprocess.run([sys.executable, '-c', '{burn}'])"
    )

    result = judge(tmp_path, code, limits={**SLOW_WALL, "cpu_seconds": 3})

    assert result["ok"] is False
    assert "CPU time limit of 3 s exceeded" in result["reason"], result["reason"]
    assert result["cpu_seconds"] >= 3


def test_processes_past_the_limit_fail_with_the_process_limit_reason(tmp_path: Path) -> None:
    code = estimator_doing(
        "import subprocess\n"
        "sleepers = [subprocess.Popen(['/bin/sleep', '120']) for _ in range(150)]"
    )

    result = judge(tmp_path, code, limits={**SLOW_WALL, "processes": 64})

    assert result["ok"] is False
    assert "process limit of 64 processes reached" in result["reason"], result["reason"]


def test_tmpfs_and_shm_filled_past_the_memory_limit_fail_with_the_memory_reason(
    tmp_path: Path,
) -> None:
    # Files of 15 MB stay under the file-size limit (16 MB); their pages are memory.
    code = estimator_doing(
        "for i in range(80):\n"
        "    folder = '/tmp' if i % 2 else '/dev/shm'\n"
        "    with open(f'{folder}/fill-{i}', 'wb') as handle:\n"
        "        handle.write(bytes(15 * 2**20))"
    )

    result = judge(tmp_path, code, limits=SLOW_WALL)

    assert result["ok"] is False
    assert "memory limit of 512 MB exceeded" in result["reason"], result["reason"]


def test_after_a_limit_the_same_worker_judges_the_next_job(tmp_path: Path) -> None:
    judge(tmp_path, estimator_doing("while True:\n    os.fork()"), limits=SLOW_WALL)

    assert judge(tmp_path, GOOD)["ok"] is True
