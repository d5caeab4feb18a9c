"""A job's folds, INSIDE the sandbox. The job supervisor forks one fold init per
job, PID 1 of the job's PID namespace (runner_confinement.py). For each
configuration and fold, on the supervisor's word, the fold init makes a fresh PID
namespace and forks the fold's student process, PID 1 of it, which confines
itself (its own mount and IPC namespaces and view of the files, no power over
them, rlimits, the student-stage seccomp filter: runner_confinement.py), runs the
configuration's steps (runner_steps.py) on the fold's training rows, predicts its
validation rows and the test set, and writes the predictions and what they cost
(runner_files.py). The student's end ends its PID namespace with every process of
it; the fold init then returns to its own PID namespace (setns), makes sure
nothing of the fold is left, and answers with the student's wait status. Part of
the sandbox's runner (sandbox_runner.py): it imports nothing of ppipe.

One fold init per job rather than a process per fold that makes the fold's
namespaces: each fork and exit of this ~220 MB process costs about 9 ms of CPU
(its page tables), and a tiny job's folds are a few milliseconds each
(bench/README.md, the judge's fixed cost).
"""

from __future__ import annotations

import base64
import contextlib
import importlib
import json
import os
import sys
import time
import traceback
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import IO, Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
from threadpoolctl import threadpool_limits

from worker_wing.judge.runner_confinement import (
    PR_SET_CHILD_SUBREAPER,
    PR_SET_DUMPABLE,
    PR_SET_NO_NEW_PRIVS,
    drop_mount_power,
    install_filter,
    keep_freed_heap,
    leave_fold_pid_namespace,
    limit_resources,
    new_fold_pid_namespace,
    prctl,
    private_view,
)
from worker_wing.judge.runner_files import (
    FOLD_FILES,
    FOLD_VIEW,
    PLACES,
    open_fold_files,
    save_array,
    write_out,
    write_phase,
)
from worker_wing.judge.runner_labels import PARQUET as LABELS_PARQUET
from worker_wing.judge.runner_labels import read_fold_labels
from worker_wing.judge.runner_steps import (
    StepError,
    StepLevels,
    StepRun,
    load_step_callable,
    pickled_models,
    predict_in_batches,
)


def _pandas_conversion() -> Callable[[Any], pd.DataFrame] | None:
    """The conversion pd.read_parquet makes, where pandas keeps it (2.2 to 3.x);
    None elsewhere, and the runner then calls pd.read_parquet itself."""
    try:
        found = getattr(importlib.import_module("pandas.io._util"), "arrow_table_to_pandas", None)
    except ImportError:
        return None
    return found if callable(found) else None


_arrow_table_to_pandas = _pandas_conversion()

# A fold's student process exits with this code when the job could not be isolated.
ISOLATION_EXIT = 4
ISOLATION_FAILED = "isolating the job failed"
NO_GET_ESTIMATOR_EXIT = 3
# The student process exits with this code when a step broke the pipeline's
# contract; the phase file then holds the reason, naming the step.
STEP_ERROR_EXIT = 5

Inputs = tuple[pd.DataFrame, pd.DataFrame, np.ndarray]


def read_parquet_file(path: str) -> pd.DataFrame:
    """What pd.read_parquet(path) returns (the same table, converted by pandas' own
    function: tests/test_runner_reads_parquet_as_pandas_does.py), read through
    pyarrow's one-file reader instead of its dataset layer, which in a freshly
    forked process touches fewer pages: less CPU for the supervisor's inputs and
    each fold's labels (bench/README.md, the judge's fixed cost)."""
    if _arrow_table_to_pandas is None:
        return pd.read_parquet(path)
    table = pq.ParquetFile(path).read(use_pandas_metadata=True, use_threads=False)
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "make_block is deprecated")  # as pandas does
        frame = _arrow_table_to_pandas(table)
    metadata = table.schema.metadata or {}
    if b"PANDAS_ATTRS" in metadata:
        frame.attrs = json.loads(metadata[b"PANDAS_ATTRS"])
    return frame


def read_labels(folder: str) -> pd.Series:
    """A fold's training labels (written by job_inputs.py's fold_labels): the Series
    pd.read_parquet gives of them, from `.npy` files where the worker could keep
    them so (runner_labels.py)."""
    labels = read_fold_labels(folder)
    if labels is None:
        labels = read_parquet_file(f"{folder}/{LABELS_PARQUET}").iloc[:, 0]
    return labels


def read_inputs(spec: dict[str, Any]) -> Inputs:
    """The training features (no labels are in this file), the test features and
    each row's fold: read once by the supervisor, inherited by every fold."""
    id_column = spec["id_column"]
    features = read_parquet_file(f"{PLACES.input}/features.parquet")
    test = read_parquet_file(f"{PLACES.input}/test.parquet")
    fold_of = np.load(f"{PLACES.input}/folds.npy", allow_pickle=False)
    drop = [id_column] if id_column else []
    return (
        features.drop(columns=[c for c in drop if c in features.columns]),
        test.drop(columns=[c for c in drop if c in test.columns]),
        fold_of,
    )


# The last is joblib's (scikit-learn's n_jobs=-1): its count of usable CPUs.
THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "LOKY_MAX_CPU_COUNT",
)


def limit_threads(cores: int) -> None:
    """The maths libraries' thread pools at `cores` threads: those already loaded
    (BLAS, OpenMP) at once, those the student's code loads later by their variables.
    Called after the student's seccomp filter is in place: the pools' new threads
    inherit it."""
    for name in THREAD_VARIABLES:
        os.environ[name] = str(cores)
    threadpool_limits(limits=cores)


def _run_fold(
    spec: dict[str, Any], plan: dict[str, Any], fold: int, inputs: Inputs, labels: str
) -> int:
    """Fit the plan on the fold's training rows, predict its validation rows and
    the test set, and write the predictions and what they cost."""
    x_all, x_test, fold_of = inputs
    estimator_only = spec.get("kind", "estimator") == "estimator"
    sys.path.insert(0, f"{PLACES.input}/submission")
    if estimator_only:
        write_phase("importing estimator.py")
        import estimator

        if not hasattr(estimator, "get_estimator"):
            write_phase("estimator.py has no get_estimator()")
            return NO_GET_ESTIMATOR_EXIT
    # A resource sweep's configuration: its batch size, and the maths libraries'
    # threads matched to the cores its cgroup grants (the cgroup confines it anyway).
    batch_size = int(plan.get("batch_size", spec.get("batch_size")) or 0)
    if plan.get("cores"):
        limit_threads(int(plan["cores"]))
    steps = [
        StepRun(
            planned,
            load_step_callable(planned["file"], planned["callable"], estimator_only),
            estimator_only,
        )
        for planned in plan["steps"]
    ]
    widest = max(sum(1 for s in plan["steps"] if s["level"] == step.level) for step in steps)
    mask = fold_of == fold
    y_train = read_labels(labels)
    values: dict[str, Any] = {"X": x_all[~mask], "y": y_train}
    rows = int((~mask).sum())
    batch_seconds: list[float] = []
    try:
        with ThreadPoolExecutor(max_workers=widest, thread_name_prefix="step") as pool:
            levels = StepLevels(steps, pool)
            started = time.monotonic()
            levels.each(lambda step: step.fit(values, fold, rows))
            fitted = time.monotonic()
            write_phase(
                f"predict on fold {fold}" if estimator_only else f"predicting on fold {fold}"
            )
            predicted = predict_in_batches(levels, x_all[mask], batch_size, batch_seconds)
            test_predicted = predict_in_batches(levels, x_test, batch_size, batch_seconds)
            ended = time.monotonic()
    except StepError as error:
        write_phase(str(error))
        return STEP_ERROR_EXIT
    write_phase(f"writing the predictions of fold {fold}")
    save_array(FOLD_FILES.predictions, predicted)
    save_array(FOLD_FILES.predictions, test_predicted)
    if spec["last_fold"]:
        write_phase("keeping the fitted model")
        model = pickled_models(steps)
        os.write(FOLD_FILES.models, len(model).to_bytes(8, "little") + model)
    figures = {
        "started": started,
        "ended": ended,
        "fit_seconds": fitted - started,
        "predict_seconds": ended - fitted,
        "batch_seconds": batch_seconds,
        "steps": [step.measured() for step in steps],
    }
    with open(FOLD_FILES.result, "w", closefd=False) as handle:
        json.dump(figures, handle)
    write_phase("done")
    return 0


def _student(spec: dict[str, Any], plan: dict[str, Any], fold: int, inputs: Inputs) -> None:
    """PID 1 of the fold's namespace (or a plain child without isolation): the fold's
    isolation, then the student's code on that one fold; never returns."""
    status = 1
    try:
        keep_freed_heap()
        open_fold_files()  # before the private /tmp hides the folder they are in
        labels = f"{PLACES.input}/folds/{fold}"
        if spec.get("isolate", True):
            try:
                private_view(int(spec.get("tmpfs_mb", 512)), fold)
            except OSError as error:
                write_phase(f"{ISOLATION_FAILED}: {error}")
                os._exit(ISOLATION_EXIT)
            drop_mount_power()
            labels = FOLD_VIEW
        os.close(0)
        sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
        os.setsid()  # kill(0, ...) then reaches only the student's own processes
        # Its own /proc files the student's code may read (as a plain Python can);
        # nothing above it is dumpable, and nothing outside its PID namespace sees it.
        prctl(PR_SET_DUMPABLE, 1)
        prctl(PR_SET_NO_NEW_PRIVS, 1)
        limit_resources(spec)
        if spec.get("student_seccomp"):
            install_filter(base64.b64decode(spec["student_seccomp"]))
        status = _run_fold(spec, plan, fold, inputs, labels)
    except BaseException:  # the student's code may raise anything, even SystemExit
        with contextlib.suppress(Exception):
            traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(status)


def _fold_init(
    spec: dict[str, Any],
    inputs: Inputs,
    commands_fd: int,
    statuses_fd: int,
    end_leftovers: Callable[[], None],
) -> None:
    """The job's fold init, a child of the supervisor; never returns. For each line
    the supervisor writes ("<configuration> <fold> <last>"): forks the fold's student
    (in a sandbox, PID 1 of a fresh PID namespace), waits for it, ends whatever of
    the fold is left, and writes the student's wait status back."""
    try:
        isolated = spec.get("isolate", True)
        # Its own PID namespace, to come back to after each fold; the student never
        # holds it (closed in the student, and setns is denied to the student).
        own = os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC) if isolated else -1
        # Orphans of a fold come back here (without isolation nothing else ends them).
        prctl(PR_SET_CHILD_SUBREAPER, 1)
        with os.fdopen(commands_fd, "rb") as commands:
            for line in commands:
                plan_index, fold, last = (int(word) for word in line.split())
                if isolated:
                    new_fold_pid_namespace()
                student = os.fork()
                if student == 0:
                    # The student holds neither end of the supervisor's pipes, nor the
                    # fold init's own namespace.
                    for fd in (commands_fd, statuses_fd, own):
                        if fd >= 0:
                            os.close(fd)
                    plan = spec["plans"][plan_index]
                    _student({**spec, "last_fold": bool(last)}, plan, fold, inputs)
                _, wait_status = os.waitpid(student, 0)
                if isolated:
                    # The student was PID 1 of the fold's namespace: its end killed
                    # every other process of it, all reaped before this wait returned.
                    leave_fold_pid_namespace(own)
                end_leftovers()
                os.write(statuses_fd, f"{wait_status}\n".encode())
    except BaseException as error:
        # The supervisor reads no status: the job could not be isolated, and why.
        with contextlib.suppress(Exception):
            write_out("phase", f"{ISOLATION_FAILED}: {error}")
    finally:
        os._exit(0)


@dataclass
class FoldInit:
    """The supervisor's end of the job's fold init."""

    pid: int
    commands_fd: int
    statuses: IO[bytes]

    def run_fold(self, plan_index: int, fold: int, last: bool) -> int:
        """The fold's student's wait status, once nothing of the fold is left; if the
        fold init is gone, the status of a fold that could not be isolated."""
        try:
            os.write(self.commands_fd, f"{plan_index} {fold} {int(last)}\n".encode())
            answer = self.statuses.readline(32)
            return int(answer) if answer.strip() else ISOLATION_EXIT << 8
        except (OSError, ValueError):
            return ISOLATION_EXIT << 8

    def close(self) -> None:
        """Ends the fold init (in a sandbox, and with it the job's PID namespace)."""
        with contextlib.suppress(OSError):
            os.close(self.commands_fd)
        self.statuses.close()
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)


def start_fold_init(
    spec: dict[str, Any], inputs: Inputs, end_leftovers: Callable[[], None]
) -> FoldInit:
    """Forks the job's fold init, which calls `end_leftovers` (kill and reap its own
    descendants) after each fold. In a sandbox the supervisor has entered the job's
    user and PID namespaces (runner_confinement.py): the fold init is PID 1 of that
    PID namespace."""
    commands_read, commands_write = os.pipe()
    statuses_read, statuses_write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(commands_write)
        os.close(statuses_read)
        _fold_init(spec, inputs, commands_read, statuses_write, end_leftovers)
    os.close(commands_read)
    os.close(statuses_write)
    return FoldInit(pid, commands_write, os.fdopen(statuses_read, "rb"))
