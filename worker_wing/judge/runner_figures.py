"""What the job supervisor reports of a job, INSIDE the sandbox: each fold's figures
as the student's process wrote them, checked field by field (it ran student code,
so they may be anything), a configuration's figures over its folds, and the tails
of what the job printed. Part of the sandbox's runner (sandbox_runner.py): it
imports nothing of ppipe.
"""

from __future__ import annotations

import json
import os
from typing import Any

import numpy as np

from worker_wing.judge.runner_steps import MAX_WINDOWS

TAIL_BYTES = 8000
# What the supervisor reads of one fold's figures (written by student code).
FOLD_REPORT_BYTES = 4 * 2**20
MAX_BATCHES = 100_000


def _percentiles(seconds: list[float]) -> dict[str, float]:
    values = np.asarray(seconds or [0.0]) * 1000
    return {
        "p50_ms": float(np.percentile(values, 50)),
        "p95_ms": float(np.percentile(values, 95)),
        "max_ms": float(values.max()),
        "batches": len(seconds),
    }


def read_capped(path: str, limit: int) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read(limit + 1)
    except OSError:
        return b""


def read_tail(path: str) -> str:
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - TAIL_BYTES))
            return handle.read().decode("utf-8", "replace")
    except OSError:
        return ""


def _seconds(value: Any) -> float:
    """A duration the student's process wrote: a finite, non-negative float, or refused."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number")
    number = float(value)
    if not np.isfinite(number) or number < 0:
        raise ValueError(f"{value!r} is not a duration")
    return number


def _windows(value: Any) -> list[list[float]]:
    if not isinstance(value, list) or len(value) > MAX_WINDOWS:
        raise ValueError("not a list of time windows")
    return [[_seconds(started), _seconds(ended)] for started, ended in value]


def fold_figures(raw: bytes, plan: dict[str, Any]) -> dict[str, Any]:
    """One fold's figures as the student's process wrote them, checked field by field
    (it ran student code, so it may be anything); raises ValueError."""
    if len(raw) > FOLD_REPORT_BYTES:
        raise ValueError("the fold's figures are too large")
    data = json.loads(raw)
    batches = data["batch_seconds"]
    if not isinstance(batches, list) or len(batches) > MAX_BATCHES:
        raise ValueError("not a list of batch times")
    names = [step["name"] for step in plan["steps"]]
    steps = {str(step["name"]): step for step in data["steps"]}
    if sorted(steps) != sorted(names):
        raise ValueError("the steps are not the plan's")
    return {
        **{key: _seconds(data[key]) for key in ("started", "ended", "fit_seconds")},
        "predict_seconds": _seconds(data["predict_seconds"]),
        "batch_seconds": [_seconds(value) for value in batches],
        "steps": [
            {
                "name": name,
                "fit_seconds": _seconds(steps[name]["fit_seconds"]),
                "cpu_seconds": _seconds(steps[name]["cpu_seconds"]),
                "windows": _windows(steps[name]["windows"]),
                "batch_seconds": [_seconds(v) for v in steps[name]["batch_seconds"][:MAX_BATCHES]],
            }
            for name in names
        ],
    }


def configuration_figures(
    plan: dict[str, Any], folds: list[dict[str, Any]], walls: list[tuple[float, float]]
) -> dict[str, Any]:
    """A configuration's figures over its folds. Each fold's window is the one this
    supervisor saw the fold process live in, not what the student wrote."""
    batches = [seconds for fold in folds for seconds in fold["batch_seconds"]]
    steps = []
    for index, name in enumerate(step["name"] for step in plan["steps"]):
        per_fold = [fold["steps"][index] for fold in folds]
        steps.append(
            {
                "name": name,
                "fit_seconds": sum(step["fit_seconds"] for step in per_fold),
                "cpu_seconds": sum(step["cpu_seconds"] for step in per_fold),
                "windows": [window for step in per_fold for window in step["windows"]],
                "latency": _percentiles([s for step in per_fold for s in step["batch_seconds"]]),
            }
        )
    return {
        "configuration": plan.get("configuration") or {},
        "folds": [
            {
                "index": index,
                "started": started,
                "ended": ended,
                "fit_seconds": fold["fit_seconds"],
                "predict_seconds": fold["predict_seconds"],
            }
            for index, (fold, (started, ended)) in enumerate(zip(folds, walls, strict=True))
        ],
        "steps": steps,
        "latency": _percentiles(batches),
    }
