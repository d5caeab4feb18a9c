"""Loaded only by the fault suite's programs whose clock is set off (tests/lab.py).

A shim for a bug of the tool, not of ppipe: with FAKETIME_DONT_FAKE_MONOTONIC,
libfaketime 0.9.10 (Debian's) makes clock_nanosleep fail with EINVAL, and
Python's time.sleep is built on it. select() waits the same time unharmed.
"""

import select
import time


def _sleep(seconds: float) -> None:
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    select.select([], [], [], seconds)


time.sleep = _sleep
