"""The nursery collapses its anonymous memory into huge pages before it forks any
box (worker_wing/judge/runner_warm.py): a fork then copies a page-table entry per
2 MB instead of 512 (bench/README.md, one fold init per job)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SETTING = Path("/sys/kernel/mm/transparent_hugepage/enabled")

COLLAPSE = """\
import sys
from worker_wing.judge.runner_warm import _heap_in_huge_pages

def huge_kb():
    with open('/proc/self/smaps_rollup') as rollup:
        return sum(int(line.split()[1]) for line in rollup if line.startswith('AnonHugePages'))

objects = [str(number) * 4 for number in range(600_000)]  # about 64 MB of Python objects
before = huge_kb()
_heap_in_huge_pages()
print(before, huge_kb())
"""


@pytest.mark.skipif(
    not SETTING.exists() or "[never]" in SETTING.read_text(), reason="no huge pages here"
)
def test_the_heap_is_collapsed_into_huge_pages() -> None:
    done = subprocess.run(
        [sys.executable, "-c", COLLAPSE],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
        cwd=Path(__file__).resolve().parents[1],
    )
    before, after = (int(value) for value in done.stdout.split())

    assert after >= before + 8 * 1024, (before, after)
