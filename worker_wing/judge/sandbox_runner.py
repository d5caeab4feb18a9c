"""The zygote, supervisors and fold processes that run INSIDE the sandbox; they
import nothing of ppipe.

Trust, from the outside in: the judge worker (worker_wing/judge/sandbox.py) starts
bubblewrap as root and drops to an unprivileged host user before Python starts;
the worker alone measures and limits CPU, memory and processes, through the
sandbox's cgroup. Inside, this file plays three parts:

- the zygote imports the maths libraries once, then forks one job supervisor
  per JSON line on stdin (a run spec) and waits for it; it never reads a job's
  data, so a later job inherits nothing of an earlier one;
- the job supervisor reads the features (never a label), and for each
  configuration and fold forks a fold process, records the fold's wall time,
  and prints ONE JSON line, its report, built from what the folds wrote;
- the fold process gives itself new user, mount, IPC and PID namespaces, a
  private size-capped /tmp and /dev/shm, and a view of /job/input in which only
  its own fold's training labels exist; its child, PID 1 of the new namespace,
  drops the power over those mounts, sets its rlimits, loads the student-stage
  seccomp filter and runs the student's code on that one fold.

So the student's code never holds the labels it is scored on, and cannot see,
signal or trace the supervisor and the zygote (they are outside its PID
namespace, non-dumpable, and ptrace is denied by seccomp): nothing it does can
forge a score or break the next job.
"""

from __future__ import annotations

import base64
import contextlib
import ctypes
import importlib
import importlib.util
import io
import json
import os
import pickle
import resource
import signal
import sys
import time
import traceback
from concurrent.futures import ThreadPoolExecutor
from typing import Any

# Imported before the job arrives: this is what makes a warm start cheap.
import numpy as np
import pandas as pd
import pyarrow.parquet  # noqa: F401 - what pandas reads the inputs with
import sklearn.ensemble
import sklearn.linear_model
import sklearn.pipeline
import sklearn.preprocessing  # noqa: F401

PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38
CLONE_NEWNS, CLONE_NEWIPC = 0x00020000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID = 0x10000000, 0x20000000
MS_RDONLY, MS_NOSUID, MS_NODEV = 0x1, 0x2, 0x4
MS_BIND, MS_REC, MS_PRIVATE = 0x1000, 0x4000, 1 << 18
MNT_DETACH = 2
# The fold process exits with this code when the job could not be isolated.
ISOLATION_EXIT = 4
ISOLATION_FAILED = "isolating the job failed"
# Set from argv: in bubblewrap, /job/input (read-only) and a folder on the tmpfs.
INPUT = "/job/input"
OUT = "/tmp/ppipe-out"  # noqa: S108 - inside the sandbox's private tmpfs
# Read-only binds below /tmp (a virtualenv in a clone there), from argv, and the
# empty folder that holds the sandbox's /tmp while a job's own /tmp is mounted.
KEPT: list[str] = []
HOLD = "/job/hold"
# Where a fold process sees its own fold's training labels, and nothing else.
FOLD_VIEW = "/job/fold"
TAIL_BYTES = 8000
# The zygote's first line: its imports are done, it takes jobs.
READY = b"ready\n"
# What the supervisor reads of one fold's figures (written by student code).
FOLD_REPORT_BYTES = 4 * 2**20
MAX_BATCHES = 100_000


_libc = ctypes.CDLL(None, use_errno=True)


def _prctl(option: int, value: int) -> None:
    _libc.prctl(option, value, 0, 0, 0)


def _check(result: int, what: str) -> None:
    if result != 0:
        raise OSError(ctypes.get_errno(), f"{what}: {os.strerror(ctypes.get_errno())}")


def _mount(source: str, target: str, flags: int, kind: str = "", options: str = "") -> None:
    result = _libc.mount(
        source.encode(), target.encode(), kind.encode() or None, flags, options.encode() or None
    )
    _check(result, f"mount {target}")


def install_filter(bpf: bytes) -> None:
    """Load a seccomp program the worker compiled with libseccomp
    (worker_wing/judge/seccomp_policy.py) into the calling thread and its future children,
    for good: this writes no BPF, it only hands the program to the kernel.

    It imports only the standard library, inside itself, so the seccomp tests can
    run its source alone in a sandbox. Call it right after fork(), before any
    thread starts: prctl() filters the calling thread only, and threads started
    later inherit the filter, so it refuses to run with other threads about.
    """
    import ctypes
    import os

    pr_set_seccomp, pr_set_no_new_privs, seccomp_mode_filter = 22, 38, 2
    if not bpf or len(bpf) % 8 or len(bpf) // 8 > 4096:
        raise ValueError("a BPF program is 1 to 4096 instructions of 8 bytes each")
    if len(os.listdir("/proc/self/task")) != 1:
        raise RuntimeError("other threads would run unfiltered: install before starting any")

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    program = ctypes.create_string_buffer(bpf, len(bpf))
    fprog = SockFprog(len(bpf) // 8, ctypes.addressof(program))
    libc = ctypes.CDLL(None, use_errno=True)
    zero = ctypes.c_ulong(0)
    # The kernel takes a filter from an unprivileged process only under no_new_privs, so that
    # no setuid program can be started with syscalls it relies on failing.
    if libc.prctl(pr_set_no_new_privs, ctypes.c_ulong(1), zero, zero, zero) != 0:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    mode = ctypes.c_ulong(seccomp_mode_filter)
    if libc.prctl(pr_set_seccomp, mode, ctypes.byref(fprog), zero, zero) != 0:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))


def _private_view(tmpfs_mb: int, fold: int) -> None:
    """Give this process a /tmp and /dev/shm of its own that die with the fold, and a
    /job/input where only this fold's training labels are readable (at FOLD_VIEW).
    Its next child is PID 1 of a new PID namespace."""
    uid, gid = os.getuid(), os.getgid()
    _check(_libc.unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWPID), "unshare")
    # A non-dumpable process's /proc/self files belong to root: dumpable only while
    # it writes its own maps, never while student code runs (it could then write
    # this process's memory through /proc and make it lift the mounts below).
    _prctl(PR_SET_DUMPABLE, 1)
    try:
        for name, value in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1")):
            with open(f"/proc/self/{name}", "w") as handle:
                handle.write(value)
        with open("/proc/self/gid_map", "w") as handle:
            handle.write(f"{gid} {gid} 1")
    finally:
        _prctl(PR_SET_DUMPABLE, 0)
    _mount("none", "/", MS_REC | MS_PRIVATE)
    if KEPT:  # held aside, or the job's own /tmp would hide them
        _mount("/tmp", HOLD, MS_BIND | MS_REC)  # noqa: S108
    for path in ("/tmp", "/dev/shm"):  # noqa: S108
        _mount("tmpfs", path, MS_NOSUID | MS_NODEV, "tmpfs", f"size={tmpfs_mb}m,mode=0700")
    if KEPT:
        for path in KEPT:
            os.makedirs(path, exist_ok=True)
            # A bind keeps the read-only flag bubblewrap locked on the original.
            _mount(HOLD + path.removeprefix("/tmp"), path, MS_BIND | MS_REC)  # noqa: S108
        # The sandbox's /tmp, shared by its jobs, must not stay reachable.
        _check(_libc.umount2(HOLD.encode(), MNT_DETACH), "detach the held /tmp")
    _mount(f"{INPUT}/folds/{fold}", FOLD_VIEW, MS_BIND)
    # Every fold's labels under an empty read-only tmpfs: the other folds' labels
    # (this fold's validation labels among them) are gone from this view.
    _mount("tmpfs", f"{INPUT}/folds", MS_RDONLY | MS_NOSUID | MS_NODEV, "tmpfs", "size=4k")


def _drop_mount_power() -> None:
    """In PID 1 of the fold's namespace: a user namespace inside the fold's, full of
    nothing, owns no mount, so the student cannot reveal what is under them."""
    _check(_libc.unshare(CLONE_NEWUSER), "unshare user")
    os.chdir("/tmp")  # noqa: S108


# --- the student process ----------------------------------------------------
def _limit(spec: dict[str, Any]) -> None:
    """Per-process limits, a first line: the cgroup the worker watches bounds the
    whole job's CPU, memory and processes however many processes it starts."""
    limits = spec["limits"]
    cpu = int(limits["cpu_seconds"])
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    # This process already maps the libraries imported above: the memory limit
    # comes on top of that.
    with open("/proc/self/statm") as statm:
        mapped = int(statm.read().split()[0]) * PAGE
    address_space = mapped + int(limits["memory_mb"]) * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
    # No RLIMIT_NPROC: it counts every process of the sandbox user on the host, all
    # sandboxes together; the cgroup's pids.max bounds this job's alone.
    file_bytes = int(limits["file_mb"]) * 2**20
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_bytes, file_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


PAGE = os.sysconf("SC_PAGE_SIZE")


def _as_column(predictions: Any) -> np.ndarray:
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


def _save(fd: int, values: np.ndarray) -> None:
    with open(fd, "wb", closefd=False) as handle:
        np.save(handle, values, allow_pickle=False)


def _out(name: str, append: bool = False) -> int:
    mode = os.O_APPEND if append else os.O_TRUNC
    return os.open(f"{OUT}/{name}", os.O_WRONLY | os.O_CREAT | mode, 0o600)


_phase_fd = _result_fd = _predictions_fd = _models_fd = -1


def _phase(name: str) -> None:
    os.ftruncate(_phase_fd, 0)
    os.pwrite(_phase_fd, name.encode(), 0)


# --- running a pipeline -------------------------------------------------------
# The spec's plans are worker_wing/pipeline/plan.py's RunPlans, one per configuration
# to run; a plain estimator.py is the one-step plan of worker_wing/judge/job_format.py.
NO_GET_ESTIMATOR_EXIT = 3
# The student process exits with this code when a step broke the pipeline's
# contract; the phase file then holds the reason, naming the step.
STEP_ERROR_EXIT = 5
# Per step and fold, memory is read in the windows when the step ran; beyond this
# many windows (tiny batches), the last one is stretched to cover the rest.
MAX_WINDOWS = 64
# A fitted model is kept as an artifact when its pickle is at most this large.
MAX_MODEL_BYTES = 2 * 2**20


class StepError(Exception):
    """A step broke the pipeline's contract; the message names it and says what to fix."""


def _percentiles(seconds: list[float]) -> dict[str, float]:
    values = np.asarray(seconds or [0.0]) * 1000
    return {
        "p50_ms": float(np.percentile(values, 50)),
        "p95_ms": float(np.percentile(values, 95)),
        "max_ms": float(values.max()),
        "batches": len(seconds),
    }


class _StepRun:
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
            column = _as_column(produced)
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
        _phase(f"{self.label}fit on fold {fold}")
        model = self.factory()
        arguments = self._arguments(values)
        if "y" in self.inputs:
            model.fit(*arguments, values["y"])
        else:
            model.fit(*arguments)
        if self.outputs != ["predictions"]:  # what the next steps are fitted on
            _phase(f"{self.label}transform on fold {fold}")
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


class _Levels:
    """A configuration's steps by level; the steps of a level run concurrently."""

    def __init__(self, steps: list[_StepRun], pool: Any) -> None:
        self.levels: list[list[_StepRun]] = []
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


def _load(file: str, name: str, estimator_only: bool) -> Any:
    """The callable `name` of the submission's `file`, imported as a module of the zip."""
    dotted = file[: -len(".py")].replace("/", ".")
    label = "" if estimator_only else f" ({file})"
    _phase(f"importing {file}")
    if all(part.isidentifier() for part in dotted.split(".")):
        module = importlib.import_module(dotted)
    else:  # a file name Python cannot import by name (my-model.py)
        found = importlib.util.spec_from_file_location(
            "ppipe_" + "".join(c if c.isalnum() else "_" for c in dotted),
            f"{INPUT}/submission/{file}",
        )
        if found is None or found.loader is None:
            raise StepError(f"{file} cannot be imported")
        module = importlib.util.module_from_spec(found)
        found.loader.exec_module(module)
    factory = getattr(module, name, None)
    if not callable(factory):
        raise StepError(f"{file} defines no callable {name} at its top level{label}")
    return factory


def _predict_in_batches(
    levels: _Levels, features: pd.DataFrame, batch_size: int, batch_seconds: list[float]
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


def _pickled(steps: list[_StepRun]) -> bytes:
    """The fitted steps of the last fold, when they pickle small; else nothing."""
    buffer = _CappedBuffer()
    try:
        pickle.Pickler(buffer, protocol=5).dump({step.name: step.fitted for step in steps})
    except Exception:  # too large, or a lambda, a lock: not every model pickles
        return b""
    return buffer.getvalue()


# --- one fold, in the student's process ---------------------------------------
Inputs = tuple[pd.DataFrame, pd.DataFrame, np.ndarray]


def _read_inputs(spec: dict[str, Any]) -> Inputs:
    """The training features (no labels are in this file), the test features and
    each row's fold: read once by the supervisor, inherited by every fold."""
    id_column = spec["id_column"]
    features = pd.read_parquet(f"{INPUT}/features.parquet")
    test = pd.read_parquet(f"{INPUT}/test.parquet")
    fold_of = np.load(f"{INPUT}/folds.npy", allow_pickle=False)
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
    sys.path.insert(0, f"{INPUT}/submission")
    if estimator_only:
        _phase("importing estimator.py")
        import estimator

        if not hasattr(estimator, "get_estimator"):
            _phase("estimator.py has no get_estimator()")
            return NO_GET_ESTIMATOR_EXIT
    batch_size = int(spec.get("batch_size") or 0)
    steps = [
        _StepRun(
            planned, _load(planned["file"], planned["callable"], estimator_only), estimator_only
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
            levels = _Levels(steps, pool)
            started = time.monotonic()
            levels.each(lambda step: step.fit(values, fold, rows))
            fitted = time.monotonic()
            _phase(f"predict on fold {fold}" if estimator_only else f"predicting on fold {fold}")
            predicted = _predict_in_batches(levels, x_all[mask], batch_size, batch_seconds)
            test_predicted = _predict_in_batches(levels, x_test, batch_size, batch_seconds)
            ended = time.monotonic()
    except StepError as error:
        _phase(str(error))
        return STEP_ERROR_EXIT
    _phase(f"writing the predictions of fold {fold}")
    _save(_predictions_fd, predicted)
    _save(_predictions_fd, test_predicted)
    if spec["last_fold"]:
        _phase("keeping the fitted model")
        model = _pickled(steps)
        os.write(_models_fd, len(model).to_bytes(8, "little") + model)
    figures = {
        "started": started,
        "ended": ended,
        "fit_seconds": fitted - started,
        "predict_seconds": ended - fitted,
        "batch_seconds": batch_seconds,
        "steps": [step.measured() for step in steps],
    }
    with open(_result_fd, "w", closefd=False) as handle:
        json.dump(figures, handle)
    _phase("done")
    return 0


def _student(spec: dict[str, Any], plan: dict[str, Any], fold: int, inputs: Inputs) -> None:
    """PID 1 of the fold's namespace (or a plain child without isolation); never returns."""
    status = 1
    try:
        os.close(0)
        sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
        os.setsid()  # kill(0, ...) then reaches only the student's own processes
        labels = f"{INPUT}/folds/{fold}/labels.parquet"
        if spec.get("isolate", True):
            _drop_mount_power()
            labels = f"{FOLD_VIEW}/labels.parquet"
        # Its own /proc files the student's code may read (as a plain Python can);
        # nothing above it is dumpable, and nothing outside its PID namespace sees it.
        _prctl(PR_SET_DUMPABLE, 1)
        _prctl(PR_SET_NO_NEW_PRIVS, 1)
        _limit(spec)
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


def _fold_process(
    spec: dict[str, Any], plan: dict[str, Any], fold: int, inputs: Inputs, status_fd: int
) -> None:
    """A fork of the supervisor: the fold's isolation, then its student; never returns.
    Writes the student's wait status to `status_fd`, which the student never holds."""
    global _phase_fd, _result_fd, _predictions_fd, _models_fd
    try:
        # Opened before the private /tmp hides the folder they are in.
        os.dup2(_out("stdout", append=True), 1)
        os.dup2(_out("stderr", append=True), 2)
        _phase_fd, _result_fd = _out("phase"), _out("fold.json")
        _predictions_fd = _out("predictions.npy", append=True)
        _models_fd = _out("models", append=True)
        if spec.get("isolate", True):
            try:
                _private_view(int(spec.get("tmpfs_mb", 512)), fold)
            except OSError as error:
                _phase(f"{ISOLATION_FAILED}: {error}")
                os._exit(ISOLATION_EXIT)
        student = os.fork()
        if student == 0:
            os.close(status_fd)
            _student(spec, plan, fold, inputs)
        _, wait_status = os.waitpid(student, 0)
        os.write(status_fd, str(wait_status).encode())
    finally:
        os._exit(0)


# --- the supervisor ---------------------------------------------------------
def _tree() -> list[int]:
    """This process's descendants (orphans included: it is their subreaper). Never
    more: without bubblewrap, /proc shows the whole machine."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat:
                parent = int(stat.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(parent, []).append(int(entry))
    found, frontier = [], [os.getpid()]
    while frontier:
        for pid in children.get(frontier.pop(), []):
            found.append(pid)
            frontier.append(pid)
    return found


def _kill_tree() -> None:
    """Kill and reap every descendant, again while any is left (a fork bomb forks
    between the listing and the kill)."""
    while tree := _tree():
        for pid in tree:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        time.sleep(0.001)


def _read_capped(path: str, limit: int) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read(limit + 1)
    except OSError:
        return b""


def _tail(path: str) -> str:
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


def _fold_figures(raw: bytes, plan: dict[str, Any]) -> dict[str, Any]:
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


def _configuration_figures(
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


def supervise(spec: dict[str, Any]) -> dict[str, Any]:
    """Run every configuration's folds, one fold process at a time, and report."""
    inputs = _read_inputs(spec)
    folds = int(inputs[2].max()) + 1
    configurations: list[dict[str, Any]] | None = []
    status, failed = 0, False  # the last fold's wait status
    figures_error = ""
    for plan in spec["plans"]:
        figures, walls = [], []
        for fold in range(folds):
            job = {**spec, "last_fold": fold == folds - 1}
            started = time.monotonic()
            reader, writer = os.pipe()
            child = os.fork()
            if child == 0:
                os.close(reader)
                _fold_process(job, plan, fold, inputs, writer)
            os.close(writer)
            os.waitpid(child, 0)
            _kill_tree()  # whatever the fold left, before the next fold starts
            walls.append((started, time.monotonic()))
            with os.fdopen(reader, "rb") as pipe:
                written = pipe.read(32)
            # No status: the fold could not even start its student (isolation failed).
            status = int(written) if written else ISOLATION_EXIT << 8
            if status != 0:
                failed = True
                break
            written = _read_capped(f"{OUT}/fold.json", FOLD_REPORT_BYTES)
            if not written:  # ended before the runner wrote them (os._exit): a crash
                failed = True
                break
            try:
                figures.append(_fold_figures(written, plan))
            except (
                ValueError,
                TypeError,
                KeyError,
                AttributeError,
                IndexError,
                RecursionError,
            ) as error:  # not what the runner writes: something the student's code did
                failed = True
                figures_error = f"fold {fold}: {type(error).__name__}: {str(error)[:200]}"
                break
        if failed:
            configurations = None
            break
        assert configurations is not None
        configurations.append(_configuration_figures(plan, figures, walls))
    report: dict[str, Any] = {
        "exit_code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else 0,
        "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0,
        "phase": _read_capped(f"{OUT}/phase", TAIL_BYTES).decode("utf-8", "replace"),
        "stdout_tail": _tail(f"{OUT}/stdout"),
        "stderr_tail": _tail(f"{OUT}/stderr"),
        "configurations": configurations,
        "figures_error": figures_error,
    }
    if configurations is not None:
        # The .npy bytes as they are: the judge worker reads them safely.
        for name, file in (("predictions", "predictions.npy"), ("models", "models")):
            report[name] = base64.b64encode(_read_capped(f"{OUT}/{file}", 2**31)).decode()
    return report


def _write_all(data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(1, view) :]


def _run_job(spec: dict[str, Any]) -> None:
    """The job supervisor, in a child of the zygote; never returns."""
    status = 1
    try:
        _prctl(PR_SET_CHILD_SUBREAPER, 1)
        _write_all((json.dumps(supervise(spec)) + "\n").encode())
        status = 0
    except BaseException as error:
        with contextlib.suppress(Exception):
            _write_all((json.dumps({"error": f"the supervisor failed: {error!r}"}) + "\n").encode())
    finally:
        os._exit(status)


def _clear_out() -> None:
    os.makedirs(OUT, mode=0o700, exist_ok=True)
    for name in os.listdir(OUT):
        with contextlib.suppress(OSError):
            os.unlink(f"{OUT}/{name}")


def serve() -> None:
    """The zygote: one job per line on stdin, each in a fresh job supervisor."""
    for line in sys.stdin:
        spec = json.loads(line)
        _clear_out()
        supervisor = os.fork()
        if supervisor == 0:
            _run_job(spec)
        _, status = os.waitpid(supervisor, 0)
        _kill_tree()  # whatever the job left, before the next one starts
        _clear_out()
        if status != 0:
            # Its report may be cut short: a newline ends it, and the worker, finding
            # no valid report, discards this sandbox.
            error = f"the job's supervisor died (wait status {status})"
            _write_all(("\n" + json.dumps({"error": error}) + "\n").encode())


def main() -> None:
    global INPUT, OUT, KEPT
    INPUT, OUT, KEPT = sys.argv[1], sys.argv[2], sys.argv[3:]
    _prctl(PR_SET_CHILD_SUBREAPER, 1)
    # Neither the zygote nor its forks (the supervisors) can then be traced or have
    # their memory read by anything of the same user.
    _prctl(PR_SET_DUMPABLE, 0)
    # The libraries are imported: from here on the cgroup's figures are the jobs'.
    _write_all(READY)
    serve()


if __name__ == "__main__":
    main()
