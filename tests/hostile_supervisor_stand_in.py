"""A STAND-IN for a sandbox whose supervisor was subverted (the real one checks
what student code writes and cannot be reached by it): a nursery, as the real
one, whose boxes print, for each job line on stdin, the report named by
PPIPE_TEST_REPORT, built in memory here."""

from __future__ import annotations

import os
import sys
from pathlib import Path

# Run as `python -I` like the real runner: the repository is not on sys.path.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from worker_wing.judge.runner_nursery import BoxOrder, nursery_loop

REPORTS = {
    # 20 million empty lists in 60 MB: gigabytes once parsed.
    "wide": lambda: b"[" + b"[]," * 20_000_000 + b"[]]",
    "deep": lambda: b"[" * 1_000_000 + b"]" * 1_000_000,
    # Larger than any report the worker accepts.
    "huge": lambda: b'{"stdout_tail": "' + b"x" * (100 * 2**20) + b'"}',
}


def hostile_box(order: BoxOrder, input_dir: str, out: str) -> None:
    os.write(1, b"ready\n")  # as the real box's zygote says once it is confined
    for _line in sys.stdin:
        data = REPORTS[os.environ.get("PPIPE_TEST_REPORT", "wide")]() + b"\n"
        view = memoryview(data)
        while view:
            view = view[os.write(1, view) :]
    os._exit(0)


nursery_loop(sys.argv[1], [], hostile_box)
