"""Where the sandbox's runner (sandbox_runner.py) finds a job's inputs and writes
what a fold leaves: its output, its phase, its figures, its predictions and its
model. Part of the runner: it runs INSIDE the sandbox and imports nothing of ppipe.

The places are set once by a box's zygote (sandbox_runner.py); the fold's files
are opened by the fold's student process before its private /tmp hides the
folder they are in, and written by it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np


@dataclass
class RunnerPlaces:
    # In bubblewrap: /job/input (read-only) and a folder on the box's tmpfs.
    input: str = "/job/input"
    out: str = "/tmp/ppipe-out"  # noqa: S108 - inside the sandbox's private tmpfs
    # Read-only binds below /tmp (a virtualenv in a clone there), which a fold's
    # own /tmp would hide.
    kept: list[str] = field(default_factory=list)


# One object, changed in place by the nursery and a box's zygote: every module of the runner
# reads the same places however it was imported.
PLACES = RunnerPlaces()
# The empty folder that holds the box's /tmp while a fold's own /tmp is mounted
# (and the nursery's while a box mounts its own).
HOLD = "/job/hold"
# Where a fold's student process sees its own fold's training labels, and nothing else.
FOLD_VIEW = "/job/fold"


@dataclass
class FoldFiles:
    """The fold's files, opened by the fold's student process before its private view."""

    phase: int = -1
    result: int = -1
    predictions: int = -1
    models: int = -1


FOLD_FILES = FoldFiles()


def open_out(name: str, append: bool = False) -> int:
    mode = os.O_APPEND if append else os.O_TRUNC
    return os.open(f"{PLACES.out}/{name}", os.O_WRONLY | os.O_CREAT | mode, 0o600)


def open_fold_files() -> None:
    """The fold's output and files, opened before its private /tmp hides their folder."""
    os.dup2(open_out("stdout", append=True), 1)
    os.dup2(open_out("stderr", append=True), 2)
    FOLD_FILES.phase, FOLD_FILES.result = open_out("phase"), open_out("fold.json")
    FOLD_FILES.predictions = open_out("predictions.npy", append=True)
    FOLD_FILES.models = open_out("models", append=True)


def write_out(name: str, text: str) -> None:
    """A whole file of the output folder, written by the supervisor or the fold init."""
    fd = open_out(name)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def write_phase(name: str) -> None:
    os.ftruncate(FOLD_FILES.phase, 0)
    os.pwrite(FOLD_FILES.phase, name.encode(), 0)


def save_array(fd: int, values: np.ndarray) -> None:
    with open(fd, "wb", closefd=False) as handle:
        np.save(handle, values, allow_pickle=False)
