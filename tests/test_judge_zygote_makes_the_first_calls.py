"""A fold starts where a warm Python would: the libraries' first calls (modules
they import only then) were made once by the sandbox's zygote, before any job
(worker_wing/judge/runner_warm.py), not again by every fold of every job; and
glibc keeps freed memory for reuse as in a long-lived process
(runner_confinement.keep_freed_heap)."""

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


def test_a_fold_serves_blocks_below_32_mb_from_its_heap(tmp_path: Path) -> None:
    # A fresh process's glibc maps every block above 128 kB anew (and unmaps it on
    # free, to be faulted in again next time); a long-lived one, and a fold, reuse
    # its heap for blocks up to 32 MB. 20 MB: no iris job frees one before.
    check = estimator_doing(
        "import ctypes\n"
        "libc = ctypes.CDLL(None)\n"
        "libc.malloc.restype = ctypes.c_void_p\n"
        "libc.free.argtypes = [ctypes.c_void_p]\n"
        "block = libc.malloc(20 * 2**20)\n"
        "with open('/proc/self/maps') as maps:\n"
        "    heap = [line.split()[0] for line in maps if line.rstrip().endswith('[heap]')]\n"
        "libc.free(block)\n"
        "low, high = (int(end, 16) for end in heap[0].split('-'))\n"
        "assert low <= block < high, f'a 20 MB block at {block:x}, the heap {heap}'"
    )

    result = judge(tmp_path, check)

    assert result["ok"] is True, result["reason"]
