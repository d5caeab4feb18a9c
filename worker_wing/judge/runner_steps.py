"""A configuration's pipeline run on one fold, step by step, INSIDE the sandbox's
student process: each step's callable imported from the submission, fitted level
by level (the steps of a level concurrently), then asked for predictions batch by
batch, with what each step cost. Part of the sandbox's runner (sandbox_runner.py):
it imports nothing of ppipe.

The plans are worker_wing/pipeline/plan.py's RunPlans, one per configuration to
run; a plain estimator.py is the one-step plan of worker_wing/judge/job_format.py.
"""

from __future__ import annotations

import importlib
import importlib.util
import io
import pickle
import time
from typing import Any

import numpy as np
import pandas as pd

from worker_wing.judge.runner_files import PLACES, write_phase

# Per step and fold, memory is read in the windows when the step ran; beyond this
# many windows (tiny batches), the last one is stretched to cover the rest.
MAX_WINDOWS = 64
# A fitted model is kept as an artifact when its pickle is at most this large.
MAX_MODEL_BYTES = 2 * 2**20


class StepError(Exception):
    """A step broke the pipeline's contract; the message names it and says what to fix."""


def as_column(predictions: Any) -> np.ndarray:
    """predict()'s output as one column that np.save can write without pickle; the
    judge worker checks what it holds."""
    values = np.asarray(predictions)
    if values.ndim != 1:
        values = values.reshape(len(values), -1)[:, 0] if values.ndim > 1 else values.reshape(-1)
    if values.dtype.kind == "S":
        values = values.astype(str)
    elif values.dtype.kind == "O":
        items = values.tolist()
        if all(isinstance(item, str) for item in items):
            values = np.asarray(items, dtype=str)
        else:
            values = values.astype(float)  # None becomes NaN, reported as missing
    return values


class StepRun:
    """One step of one configuration: what it runs, and what it cost, over the folds."""

    def __init__(self, planned: dict[str, Any], factory: Any, estimator_only: bool) -> None:
        self.name: str = planned["name"]
        self.inputs: list[str] = planned["inputs"]
        self.outputs: list[str] = planned["outputs"]
        self.level: int = int(planned["level"])
        self.factory = factory
        # A plain estimator.py keeps its phases as they were ("fit on fold 0").
        self.label = "" if estimator_only else f"step {self.name}: "
        self.fitted: Any = None
        self.fit_seconds = 0.0
        self.cpu_seconds = 0.0
        self.batch_seconds: list[float] = []
        self.windows: list[list[float]] = []

    def _window(self, started: float, ended: float) -> None:
        # One process per fold: these are this fold's windows.
        if len(self.windows) < MAX_WINDOWS:
            self.windows.append([started, ended])
        else:
            self.windows[-1][1] = ended

    def _arguments(self, values: dict[str, Any]) -> list[Any]:
        return [values[name] for name in self.inputs if name != "y"]

    def _store(self, values: dict[str, Any], produced: Any, rows: int, verb: str) -> None:
        """Check what the step returned against its declared outputs, and keep it."""
        if self.outputs == ["predictions"]:
            if produced is None:
                raise StepError(f"{self.label}{verb} returned None instead of predictions")
            column = as_column(produced)
            if len(column) != rows:
                raise StepError(
                    f"{self.label}{verb} returned {len(column)} predictions for {rows} rows"
                )
            values["predictions"] = column
            return
        if len(self.outputs) == 1:
            parts = (produced,)
        elif isinstance(produced, tuple | list) and len(produced) == len(self.outputs):
            parts = tuple(produced)
        else:
            raise StepError(
                f"{self.label}{verb} returned {type(produced).__name__}; it must return a tuple "
                f"of {len(self.outputs)} values, one per output ({', '.join(self.outputs)})"
            )
        for name, part in zip(self.outputs, parts, strict=True):
            try:
                length = len(part)
            except TypeError:
                raise StepError(
                    f"{self.label}{verb} returned {type(part).__name__} for '{name}'; it must "
                    "return one row per input row (an array, a frame or a list)"
                ) from None
            if length != rows:
                raise StepError(
                    f"{self.label}{verb} returned {length} rows for '{name}' from {rows} input rows"
                )
            values[name] = part

    def fit(self, values: dict[str, Any], fold: int, rows: int) -> None:
        started, cpu = time.monotonic(), time.thread_time()
        write_phase(f"{self.label}fit on fold {fold}")
        model = self.factory()
        arguments = self._arguments(values)
        if "y" in self.inputs:
            model.fit(*arguments, values["y"])
        else:
            model.fit(*arguments)
        if self.outputs != ["predictions"]:  # what the next steps are fitted on
            write_phase(f"{self.label}transform on fold {fold}")
            self._store(values, model.transform(*arguments), rows, "transform")
        self.fitted = model
        ended = time.monotonic()
        self.fit_seconds += ended - started
        self.cpu_seconds += time.thread_time() - cpu
        self._window(started, ended)

    def infer(self, values: dict[str, Any], rows: int) -> None:
        started, cpu = time.monotonic(), time.thread_time()
        arguments = self._arguments(values)
        if self.outputs == ["predictions"]:
            self._store(values, self.fitted.predict(*arguments), rows, "predict")
        else:
            self._store(values, self.fitted.transform(*arguments), rows, "transform")
        ended = time.monotonic()
        self.batch_seconds.append(ended - started)
        self.cpu_seconds += time.thread_time() - cpu
        self._window(started, ended)

    def measured(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "fit_seconds": self.fit_seconds,
            "cpu_seconds": self.cpu_seconds,
            "windows": self.windows,
            "batch_seconds": self.batch_seconds,
        }


class StepLevels:
    """A configuration's steps by level; the steps of a level run concurrently."""

    def __init__(self, steps: list[StepRun], pool: Any) -> None:
        self.levels: list[list[StepRun]] = []
        for step in steps:  # the plan lists them by level
            if not self.levels or self.levels[-1][0].level != step.level:
                self.levels.append([])
            self.levels[-1].append(step)
        self.pool = pool

    def each(self, call: Any) -> None:
        for level in self.levels:
            if len(level) == 1:
                call(level[0])
            else:  # the first error raised is the one reported
                for future in [self.pool.submit(call, step) for step in level]:
                    future.result()


def load_step_callable(file: str, name: str, estimator_only: bool) -> Any:
    """The callable `name` of the submission's `file`, imported as a module of the zip."""
    dotted = file[: -len(".py")].replace("/", ".")
    label = "" if estimator_only else f" ({file})"
    write_phase(f"importing {file}")
    if all(part.isidentifier() for part in dotted.split(".")):
        module = importlib.import_module(dotted)
    else:  # a file name Python cannot import by name (my-model.py)
        found = importlib.util.spec_from_file_location(
            "ppipe_" + "".join(c if c.isalnum() else "_" for c in dotted),
            f"{PLACES.input}/submission/{file}",
        )
        if found is None or found.loader is None:
            raise StepError(f"{file} cannot be imported")
        module = importlib.util.module_from_spec(found)
        found.loader.exec_module(module)
    factory = getattr(module, name, None)
    if not callable(factory):
        raise StepError(f"{file} defines no callable {name} at its top level{label}")
    return factory


def predict_in_batches(
    levels: StepLevels, features: pd.DataFrame, batch_size: int, batch_seconds: list[float]
) -> np.ndarray:
    rows = len(features)
    size = batch_size or max(rows, 1)
    parts = []
    for start in range(0, rows, size):
        batch = features.iloc[start : start + size]
        values: dict[str, Any] = {"X": batch}
        started = time.monotonic()
        levels.each(lambda step: step.infer(values, len(batch)))  # noqa: B023
        batch_seconds.append(time.monotonic() - started)
        parts.append(values["predictions"])
    return np.concatenate(parts) if parts else np.asarray([])


class _ModelTooLarge(Exception):
    pass


class _CappedBuffer(io.BytesIO):
    """Pickling stops as soon as the model outgrows what is kept: a 1 GB model costs
    the student's run 2 MB of pickling, not another gigabyte of memory."""

    def write(self, data: Any) -> int:
        if self.tell() + len(data) > MAX_MODEL_BYTES:
            raise _ModelTooLarge
        return super().write(data)


def pickled_models(steps: list[StepRun]) -> bytes:
    """The fitted steps of the last fold, when they pickle small; else nothing."""
    buffer = _CappedBuffer()
    try:
        pickle.Pickler(buffer, protocol=5).dump({step.name: step.fitted for step in steps})
    except Exception:  # too large, or a lambda, a lock: not every model pickles
        return b""
    return buffer.getvalue()
