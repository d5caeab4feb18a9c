"""A STAND-IN for a sandbox whose supervisor was subverted (the real one checks
what student code writes and cannot be reached by it): for each job line on
stdin it prints the report named by PPIPE_TEST_REPORT, built in memory here."""

from __future__ import annotations

import os
import sys

REPORTS = {
    # 20 million empty lists in 60 MB: gigabytes once parsed.
    "wide": lambda: b"[" + b"[]," * 20_000_000 + b"[]]",
    "deep": lambda: b"[" * 1_000_000 + b"]" * 1_000_000,
    # Larger than any report the worker accepts.
    "huge": lambda: b'{"stdout_tail": "' + b"x" * (100 * 2**20) + b'"}',
}

os.write(1, b"ready\n")  # as the real zygote says once its imports are done
for _line in sys.stdin:
    data = REPORTS[os.environ.get("PPIPE_TEST_REPORT", "wide")]() + b"\n"
    view = memoryview(data)
    while view:
        view = view[os.write(1, view) :]
