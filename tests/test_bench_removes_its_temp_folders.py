"""A benchmark's folders in the temporary directory (bench/harness.py's
bench_temp_dir) are gone once it exits: after Ctrl-C, SIGTERM or a failure, as
after a normal end. Runs went on leaving `ppipe-bench-*` folders (5 GB seen)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parent.parent / "bench"
# A tiny benchmark: makes its folder, writes into it, says where, then works on
# (or fails). SIGINT gets Python's own handler back: a shell that starts the test
# run in the background leaves SIGINT ignored, which Ctrl-C in a terminal is not.
TINY_BENCH = f"""
import signal, sys, time
signal.signal(signal.SIGINT, signal.default_int_handler)
sys.path.insert(0, {str(BENCH)!r})
from harness import bench_temp_dir

work = bench_temp_dir()
(work / "sandbox").mkdir()
(work / "sandbox" / "predictions.npy").write_bytes(b"0" * 4096)
print(work, flush=True)
if sys.argv[1] == "fail":
    raise RuntimeError("the benchmark failed")
if sys.argv[1] == "end":
    sys.exit(0)
time.sleep(600)
"""


@pytest.mark.parametrize(
    ("how", "signum"),
    [("interrupted", signal.SIGINT), ("terminated", signal.SIGTERM), ("fail", None), ("end", None)],
)
def test_the_benchmark_leaves_nothing_in_the_temporary_directory(
    tmp_path: Path, how: str, signum: signal.Signals | None
) -> None:
    temporary = tmp_path / "tmp"
    temporary.mkdir()
    bench = subprocess.Popen(
        [sys.executable, "-c", TINY_BENCH, how],
        env={**os.environ, "TMPDIR": str(temporary)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert bench.stdout is not None
    work = Path(bench.stdout.readline().strip())
    assert work.parent == temporary
    assert work.name.startswith("ppipe-bench-")
    if signum is not None:
        assert (work / "sandbox" / "predictions.npy").exists()  # still at work
        bench.send_signal(signum)
    bench.wait(timeout=120)

    assert list(temporary.iterdir()) == [], bench.stderr.read() if bench.stderr else ""
