"""A run's figures as the judge worker measured them, not as the sandbox said.

CPU seconds and memory come from the sandbox's cgroup, sampled by the worker
(worker_wing/judge/sandbox.py); each fold's window is the one its supervisor saw the fold
process live in, which the student's code cannot reach. What only the student's
process can time (fitting, predicting, each step, each batch) is accepted up to
what the outside measured, and every figure cut down is named, so the
submission page can say so. No Django here: judge workers use this module.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import Any

from worker_wing.judge.sandbox import Sample


def cpu_between(samples: Sequence[Sample], started: float, ended: float) -> float:
    """The job's CPU seconds from `started` to `ended`, from the samples around them."""
    times = [sample.at for sample in samples]

    def at(moment: float) -> float:
        after = bisect.bisect_left(times, moment)
        return samples[min(after, len(samples) - 1)].cpu_seconds if samples else 0.0

    return max(0.0, at(ended) - at(started))


def peak_between(samples: Sequence[Sample], windows: Sequence[Sequence[float]]) -> float:
    """The highest memory (MB) sampled inside the windows; a window shorter than the
    sampling interval takes the first sample after it ended."""
    times = [sample.at for sample in samples]
    peak = 0
    for started, ended in windows:
        first, last = bisect.bisect_left(times, started), bisect.bisect_right(times, ended)
        inside = [sample.memory_bytes for sample in samples[first:last]]
        if not inside and last < len(samples):
            inside = [samples[last].memory_bytes]
        peak = max([peak, *inside])
    return peak / 2**20


def _capped(value: float, cap: float, what: str, clamped: list[str]) -> float:
    if value > cap + 1e-6:
        clamped.append(f"{what}: reported {value:.3g}, measured at most {cap:.3g}")
        return cap
    return value


def _latency(latency: dict[str, Any], cap_ms: float, what: str, clamped: list[str]) -> None:
    for key in ("p50_ms", "p95_ms", "max_ms"):
        if key in latency:
            latency[key] = _capped(float(latency[key]), cap_ms, f"{what} {key}", clamped)


def measured_configuration(
    configuration: dict[str, Any],
    samples: Sequence[Sample],
    *,
    cpu_seconds: float,
    peak_memory_mb: float,
    clamped: list[str],
) -> dict[str, Any]:
    """One configuration of the runner's report with its figures from outside: each
    fold's CPU and memory from the cgroup samples in the fold's window, the times
    the student's process reported capped by that window, each step's memory from
    the samples in its windows and its CPU by the job's. Appends what was cut."""
    prefix = "configuration " + str(configuration.get("configuration") or "") + " "
    folds, predict_total = [], 0.0
    for fold in configuration["folds"]:
        started, ended = float(fold["started"]), float(fold["ended"])
        wall = max(0.0, ended - started)
        fit, predict = float(fold["fit_seconds"]), float(fold["predict_seconds"])
        if fit + predict > wall + 1e-6:
            clamped.append(
                f"{prefix.strip()} fold {fold['index']}: fit and predict times "
                f"(reported {fit + predict:.3g} s) cut to the {wall:.3g} s the fold ran"
            )
            scale = wall / (fit + predict)
            fit, predict = fit * scale, predict * scale
        predict_total += predict
        folds.append(
            {
                **fold,
                "fit_seconds": fit,
                "predict_seconds": predict,
                "cpu_seconds": cpu_between(samples, started, ended),
                "peak_memory_mb": min(peak_memory_mb, peak_between(samples, [[started, ended]])),
            }
        )
    fit_total = sum(fold["fit_seconds"] for fold in folds)
    steps = []
    for step in configuration["steps"]:
        what = f"step {step['name']}"
        step = {
            **step,
            "fit_seconds": _capped(float(step["fit_seconds"]), fit_total, what, clamped),
            "cpu_seconds": _capped(float(step["cpu_seconds"]), cpu_seconds, what, clamped),
            "peak_memory_mb": min(peak_memory_mb, peak_between(samples, step.pop("windows"))),
            "latency": dict(step["latency"]),
        }
        _latency(step["latency"], predict_total * 1000, f"{what} latency", clamped)
        steps.append(step)
    latency = dict(configuration["latency"])
    _latency(latency, predict_total * 1000, "latency", clamped)
    return {**configuration, "folds": folds, "steps": steps, "latency": latency}
