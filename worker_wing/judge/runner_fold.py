"""A job's folds, INSIDE the sandbox. The job supervisor forks one fold init per
job; in a sandbox it is PID 1 of the job's PID namespace (runner_confinement.py's
enter_job_namespaces). For each configuration and fold, on the supervisor's word,
the fold init forks the fold's student process, which confines itself (its own
mount and IPC namespaces and view of the files, runner_confinement.py), runs the
configuration's steps (runner_steps.py) on the fold's training rows, predicts its
validation rows and the test set, and writes the predictions and what they cost
(runner_files.py). When the student's process ends, the fold init kills whatever
it left and reaps it all before it answers, so the next fold's student starts in a
namespace where nothing of an earlier fold is alive. Part of the sandbox's runner
(sandbox_runner.py): it imports nothing of ppipe.

One fold init per job rather than a process per fold that makes the fold's PID
namespace: each fork or exit of this ~220 MB process costs about 4 ms of CPU
(its page tables), and a tiny job's folds are a few milliseconds each.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import sys
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import IO, Any

import numpy as np
import pandas as pd

from worker_wing.judge.runner_confinement import (
    PR_SET_CHILD_SUBREAPER,
    PR_SET_DUMPABLE,
    PR_SET_NO_NEW_PRIVS,
    drop_mount_power,
    install_filter,
    limit_resources,
    prctl,
    private_view,
)
from worker_wing.judge.runner_files import (
    FOLD_FILES,
    FOLD_VIEW,
    PLACES,
    open_fold_files,
    save_array,
    write_phase,
)
from worker_wing.judge.runner_steps import (
    StepError,
    StepLevels,
    StepRun,
    load_step_callable,
    pickled_models,
    predict_in_batches,
)

# The fold process exits with this code when the job could not be isolated.
ISOLATION_EXIT = 4
ISOLATION_FAILED = "isolating the job failed"
NO_GET_ESTIMATOR_EXIT = 3
# The student process exits with this code when a step broke the pipeline's
# contract; the phase file then holds the reason, naming the step.
STEP_ERROR_EXIT = 5

Inputs = tuple[pd.DataFrame, pd.DataFrame, np.ndarray]


def read_inputs(spec: dict[str, Any]) -> Inputs:
    """The training features (no labels are in this file), the test features and
    each row's fold: read once by the supervisor, inherited by every fold."""
    id_column = spec["id_column"]
    features = pd.read_parquet(f"{PLACES.input}/features.parquet")
    test = pd.read_parquet(f"{PLACES.input}/test.parquet")
    fold_of = np.load(f"{PLACES.input}/folds.npy", allow_pickle=False)
    drop = [id_column] if id_column else []
    return (
        features.drop(columns=[c for c in drop if c in features.columns]),
        test.drop(columns=[c for c in drop if c in test.columns]),
        fold_of,
    )


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
    batch_size = int(spec.get("batch_size") or 0)
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
    y_train = pd.read_parquet(labels).iloc[:, 0]
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
    """A child of the fold init: the fold's isolation, then the student's code on
    that one fold; never returns."""
    status = 1
    try:
        open_fold_files()  # before the private /tmp hides the folder they are in
        labels = f"{PLACES.input}/folds/{fold}/labels.parquet"
        if spec.get("isolate", True):
            try:
                private_view(int(spec.get("tmpfs_mb", 512)), fold)
            except OSError as error:
                write_phase(f"{ISOLATION_FAILED}: {error}")
                os._exit(ISOLATION_EXIT)
            drop_mount_power()
            labels = f"{FOLD_VIEW}/labels.parquet"
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


def end_namespace_leftovers() -> None:
    """As PID 1 of the job's PID namespace: kill every other process of it and reap
    them all. kill(-1) from a namespace's init reaches every process of that
    namespace (and of namespaces nested in it) but the init, and cancels any fork
    under way in them; every process of the namespace descends from its init or is
    re-parented to it when its parent dies. So ECHILD here proves that nothing of
    the fold is left."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(-1, signal.SIGKILL)
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return


def _only_handled_signals() -> None:
    """A namespace's init gets, from the processes of its namespace, only the signals
    it handles (never SIGKILL or SIGSTOP): the fold init handles none, so no student
    can stop, interrupt or kill it."""
    for number in signal.valid_signals():
        if callable(signal.getsignal(number)):  # Python's SIGINT handler
            signal.signal(number, signal.SIG_DFL)


def _fold_init(
    spec: dict[str, Any],
    inputs: Inputs,
    commands_fd: int,
    statuses_fd: int,
    end_leftovers: Callable[[], None],
) -> None:
    """The job's fold init, a child of the supervisor; never returns. Per line the
    supervisor writes ("<configuration> <fold> <last>"): forks the fold's student,
    waits for it, ends what it left, and writes the student's wait status back."""
    try:
        if spec.get("isolate", True):
            _only_handled_signals()
        else:  # no PID namespace: the fold's orphans come back to this process
            prctl(PR_SET_CHILD_SUBREAPER, 1)
        with os.fdopen(commands_fd, "rb") as commands:
            for line in commands:
                plan_index, fold, last = (int(word) for word in line.split())
                student = os.fork()
                if student == 0:
                    # The student holds neither end of the supervisor's pipes.
                    os.close(commands_fd)
                    os.close(statuses_fd)
                    plan = spec["plans"][plan_index]
                    _student({**spec, "last_fold": bool(last)}, plan, fold, inputs)
                _, wait_status = os.waitpid(student, 0)
                end_leftovers()
                os.write(statuses_fd, f"{wait_status}\n".encode())
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
        """Ends the fold init (in a sandbox, with it the job's PID namespace)."""
        with contextlib.suppress(OSError):
            os.close(self.commands_fd)
        self.statuses.close()
        with contextlib.suppress(ChildProcessError):
            os.waitpid(self.pid, 0)


def start_fold_init(spec: dict[str, Any], inputs: Inputs, end_tree: Callable[[], None]) -> FoldInit:
    """Forks the job's fold init. In a sandbox the supervisor has entered the job's
    namespaces (enter_job_namespaces): the fold init is PID 1 of the new PID
    namespace and ends each fold's leftovers with it; without one, it ends them as
    `end_tree` does (its own descendants)."""
    commands_read, commands_write = os.pipe()
    statuses_read, statuses_write = os.pipe()
    end_leftovers = end_namespace_leftovers if spec.get("isolate", True) else end_tree
    pid = os.fork()
    if pid == 0:
        os.close(commands_write)
        os.close(statuses_read)
        _fold_init(spec, inputs, commands_read, statuses_write, end_leftovers)
    os.close(commands_read)
    os.close(statuses_write)
    return FoldInit(pid, commands_write, os.fdopen(statuses_read, "rb"))
