"""The zygote and supervisors that run INSIDE the sandbox; they import nothing of ppipe.

The zygote starts ahead of any job and imports the maths libraries once. Then,
for each JSON line on stdin (a run spec), it forks a fresh job supervisor and
waits for it; it never reads a job's data itself, so a later fork inherits
nothing of an earlier job. The job supervisor forks the student process, which
gives itself new user, mount and IPC namespaces with a fresh size-capped tmpfs
on /tmp and /dev/shm (so nothing a job writes survives it), enters one more
user namespace that holds no power over those mounts, sets its rlimits, trains
and predicts on every fold. Meanwhile the supervisor samples the memory and CPU
of the whole process tree (rusage seen from outside bubblewrap is empty), kills
the tree at a limit, reaps everything and prints ONE JSON line, its report, on
stdout. The zygote then kills whatever is left of the job before the next one.

Both make themselves child subreapers, so processes the student orphans are
still measured, reaped and killed, and are non-dumpable, so the student process
(same user) cannot ptrace them or read their file descriptors.
"""

from __future__ import annotations

import base64
import bisect
import contextlib
import ctypes
import importlib
import importlib.util
import io
import json
import os
import pickle
import resource
import select
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
CLONE_NEWNS, CLONE_NEWIPC, CLONE_NEWUSER = 0x00020000, 0x08000000, 0x10000000
MS_NOSUID, MS_NODEV, MS_BIND, MS_REC, MS_PRIVATE = 0x2, 0x4, 0x1000, 0x4000, 1 << 18
MNT_DETACH = 2
KEYCTL_JOIN_SESSION_KEYRING = 1
SYS_KEYCTL = 250  # x86_64
# The student process exits with this code when the job could not be isolated.
ISOLATION_EXIT = 4
ISOLATION_FAILED = "isolating the job failed"
# Set from argv: in bubblewrap, /job/input (read-only) and a folder on the tmpfs.
INPUT = "/job/input"
OUT = "/tmp/ppipe-out"  # noqa: S108 - inside the sandbox's private tmpfs
# Read-only binds below /tmp (a virtualenv in a clone there), from argv, and the
# empty folder that holds the sandbox's /tmp while a job's own /tmp is mounted.
KEPT: list[str] = []
HOLD = "/job/hold"
TAIL_BYTES = 8000
SAMPLE_SECONDS = 0.02
PAGE = os.sysconf("SC_PAGE_SIZE")
TICKS = os.sysconf("SC_CLK_TCK")


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


def _private_scratch(tmpfs_mb: int) -> None:
    """Give this process a /tmp and /dev/shm of its own that die with the job, then
    give up the power to change mounts, so the student cannot reveal what is under."""
    uid, gid = os.getuid(), os.getgid()
    _check(_libc.unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWIPC), "unshare")
    for name, value in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1")):
        with open(f"/proc/self/{name}", "w") as handle:
            handle.write(value)
    with open("/proc/self/gid_map", "w") as handle:
        handle.write(f"{gid} {gid} 1")
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
    # A user namespace inside this one: full of nothing, it owns no mount.
    _check(_libc.unshare(CLONE_NEWUSER), "unshare user")
    # A fresh session keyring, so no key of an earlier job is reachable.
    _libc.syscall(SYS_KEYCTL, KEYCTL_JOIN_SESSION_KEYRING, None)
    os.chdir("/tmp")  # noqa: S108


# --- the student process ----------------------------------------------------
def _limit(spec: dict[str, Any]) -> None:
    limits = spec["limits"]
    cpu = int(limits["cpu_seconds"])
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    # This process already maps the libraries imported above: the memory limit
    # comes on top of that. The tree's resident memory is watched as well.
    with open("/proc/self/statm") as statm:
        mapped = int(statm.read().split()[0]) * PAGE
    address_space = mapped + int(limits["memory_mb"]) * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
    processes = int(limits["processes"])
    resource.setrlimit(resource.RLIMIT_NPROC, (processes, processes))
    file_bytes = int(limits["file_mb"]) * 2**20
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_bytes, file_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


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


def _out(name: str) -> int:
    return os.open(f"{OUT}/{name}", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)


def _student(spec: dict[str, Any]) -> None:
    """Runs in the forked child; never returns."""
    global _phase_fd, _result_fd, _predictions_fd, _models_fd
    status = 1
    try:
        # Opened before the private /tmp hides the folder they are in.
        os.dup2(_out("stdout"), 1)
        os.dup2(_out("stderr"), 2)
        _phase_fd, _result_fd = _out("phase"), _out("result.json")
        _predictions_fd, _models_fd = _out("predictions.npy"), _out("models")
        os.close(0)
        sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
        if spec.get("isolate", True):
            try:
                _private_scratch(int(spec.get("tmpfs_mb", 512)))
            except OSError as error:
                _phase(f"{ISOLATION_FAILED}: {error}")
                os._exit(ISOLATION_EXIT)
        _prctl(PR_SET_NO_NEW_PRIVS, 1)
        _limit(spec)
        status = _train_and_predict(spec)
    except BaseException:  # the student's code may raise anything, even SystemExit
        with contextlib.suppress(Exception):
            traceback.print_exc()
    finally:
        with contextlib.suppress(Exception):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(status)


_phase_fd = _result_fd = _predictions_fd = _models_fd = -1


def _phase(name: str) -> None:
    os.ftruncate(_phase_fd, 0)
    os.pwrite(_phase_fd, name.encode(), 0)


# --- running a pipeline -------------------------------------------------------
# The spec's plans are judging/pipeline_plan.py's RunPlans, one per configuration
# to run; a plain estimator.py is the one-step plan of judging/job_format.py.
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

    def _window(self, started: float, ended: float, per_fold: int) -> None:
        if per_fold < MAX_WINDOWS:
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

    def fit(self, values: dict[str, Any], fold: int, rows: int, windows_before: int) -> None:
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
        self._window(started, ended, len(self.windows) - windows_before)

    def infer(self, values: dict[str, Any], rows: int, windows_before: int) -> None:
        started, cpu = time.monotonic(), time.thread_time()
        arguments = self._arguments(values)
        if self.outputs == ["predictions"]:
            self._store(values, self.fitted.predict(*arguments), rows, "predict")
        else:
            self._store(values, self.fitted.transform(*arguments), rows, "transform")
        ended = time.monotonic()
        self.batch_seconds.append(ended - started)
        self.cpu_seconds += time.thread_time() - cpu
        self._window(started, ended, len(self.windows) - windows_before)

    def measured(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "fit_seconds": self.fit_seconds,
            "cpu_seconds": self.cpu_seconds,
            "windows": self.windows,
            "latency": _percentiles(self.batch_seconds),
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
    windows = {id(step): len(step.windows) for level in levels.levels for step in level}
    parts = []
    for start in range(0, rows, size):
        batch = features.iloc[start : start + size]
        values: dict[str, Any] = {"X": batch}
        started = time.monotonic()
        levels.each(lambda step: step.infer(values, len(batch), windows[id(step)]))  # noqa: B023
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


def _run_configuration(
    plan: dict[str, Any],
    data: tuple[pd.DataFrame, pd.Series, pd.DataFrame, np.ndarray],
    batch_size: int,
    pool: Any,
    estimator_only: bool,
) -> dict[str, Any]:
    x_all, y_all, x_test, fold_of = data
    steps = [
        _StepRun(
            planned, _load(planned["file"], planned["callable"], estimator_only), estimator_only
        )
        for planned in plan["steps"]
    ]
    levels = _Levels(steps, pool)
    folds: list[dict[str, Any]] = []
    batch_seconds: list[float] = []
    for index in range(int(fold_of.max()) + 1):
        mask = fold_of == index
        before = resource.getrusage(resource.RUSAGE_SELF)
        started = time.monotonic()
        windows = {id(step): len(step.windows) for step in steps}
        values: dict[str, Any] = {"X": x_all[~mask], "y": y_all[~mask]}
        rows = int((~mask).sum())
        levels.each(lambda step: step.fit(values, index, rows, windows[id(step)]))  # noqa: B023
        fitted = time.monotonic()
        _phase(f"predict on fold {index}" if estimator_only else f"predicting on fold {index}")
        predicted = _predict_in_batches(levels, x_all[mask], batch_size, batch_seconds)
        test_predicted = _predict_in_batches(levels, x_test, batch_size, batch_seconds)
        ended = time.monotonic()
        _phase(f"writing the predictions of fold {index}")
        _save(_predictions_fd, predicted)
        _save(_predictions_fd, test_predicted)
        after = resource.getrusage(resource.RUSAGE_SELF)
        folds.append(
            {
                "index": index,
                "started": started,
                "ended": ended,
                "fit_seconds": fitted - started,
                "predict_seconds": ended - fitted,
                "cpu_seconds": (after.ru_utime + after.ru_stime)
                - (before.ru_utime + before.ru_stime),
            }
        )
    _phase("keeping the fitted model")
    model = _pickled(steps)
    os.write(_models_fd, len(model).to_bytes(8, "little") + model)
    return {
        "configuration": plan.get("configuration") or {},
        "folds": folds,
        "steps": [step.measured() for step in steps],
        "latency": _percentiles(batch_seconds),
    }


def _train_and_predict(spec: dict[str, Any]) -> int:
    target, id_column = spec["target_column"], spec["id_column"]
    train = pd.read_parquet(f"{INPUT}/train.parquet")
    test = pd.read_parquet(f"{INPUT}/test.parquet")
    fold_of = np.load(f"{INPUT}/folds.npy", allow_pickle=False)
    drop = [c for c in (target, id_column) if c and c in train.columns]
    x_test = test.drop(columns=[c for c in (id_column,) if c and c in test.columns])
    data = (train.drop(columns=drop), train[target], x_test, fold_of)
    plans = spec["plans"]
    estimator_only = spec.get("kind", "estimator") == "estimator"
    sys.path.insert(0, f"{INPUT}/submission")
    if estimator_only:
        _phase("importing estimator.py")
        import estimator

        if not hasattr(estimator, "get_estimator"):
            _phase("estimator.py has no get_estimator()")
            return NO_GET_ESTIMATOR_EXIT
    widest = max(
        max(sum(1 for s in plan["steps"] if s["level"] == step["level"]) for step in plan["steps"])
        for plan in plans
    )
    configurations = []
    try:
        with ThreadPoolExecutor(max_workers=widest, thread_name_prefix="step") as pool:
            for plan in plans:
                configurations.append(
                    _run_configuration(
                        plan, data, int(spec.get("batch_size") or 0), pool, estimator_only
                    )
                )
    except StepError as error:
        _phase(str(error))
        return STEP_ERROR_EXIT
    with open(_result_fd, "w", closefd=False) as handle:
        json.dump({"configurations": configurations}, handle)
    _phase("done")
    return 0


# --- the supervisor ---------------------------------------------------------
def _tree() -> list[int]:
    """This supervisor's descendants (orphans included: it is their subreaper). Never
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


def _sample(pids: list[int]) -> tuple[int, float]:
    """Resident bytes and CPU seconds of the live processes of the tree."""
    rss, cpu = 0, 0.0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/statm") as statm:
                rss += int(statm.read().split()[1]) * PAGE
            with open(f"/proc/{pid}/stat") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            cpu += (int(fields[11]) + int(fields[12])) / TICKS
        except (OSError, IndexError, ValueError):
            continue  # it ended between listing and reading
    return rss, cpu


def _kill_tree(status_of: dict[int, int] | None = None) -> None:
    """Kill and reap every descendant, again while any is left (a fork bomb forks
    between the listing and the kill); wait statuses go to `status_of`."""
    while tree := _tree():
        for pid in tree:
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            while True:
                pid, status = os.waitpid(-1, os.WNOHANG)
                if pid == 0:
                    break
                if status_of is not None:
                    status_of[pid] = status
        time.sleep(0.001)


def _reap(child: int, status_of: dict[str, int]) -> bool:
    """Reap whatever ended; True while the student's main process lives."""
    while True:
        try:
            pid, status = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return False
        if pid == 0:
            return "main" not in status_of
        if pid == child:
            status_of["main"] = status


def _tail(path: str) -> str:
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - TAIL_BYTES))
            return handle.read().decode("utf-8", "replace")
    except OSError:
        return ""


def _read_bytes(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:
        return b""


def _read(path: str) -> str:
    try:
        with open(path) as handle:
            return handle.read()
    except OSError:
        return ""


def _file_backed_bytes(pid: int | str) -> int:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("RssFile:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _window_peak(samples: list[tuple[float, int]], windows: list[list[float]]) -> float:
    """The tree's peak resident memory (MB) in the windows; a window shorter than the
    sampling interval takes the last sample before it ended."""
    times = [t for t, _ in samples]
    peak = 0
    for started, ended in windows:
        first, last = bisect.bisect_left(times, started), bisect.bisect_right(times, ended)
        inside = [rss for _, rss in samples[first:last]]
        if not inside and last > 0:
            inside = [samples[last - 1][1]]
        peak = max([peak, *inside])
    return peak / 2**20


def _with_memory(
    configurations: list[dict[str, Any]], samples: list[tuple[float, int]]
) -> list[dict[str, Any]]:
    """The student's report with each fold's and step's peak memory, from the samples
    taken while they ran, and without the time windows that served to find it."""
    for configuration in configurations:
        for fold in configuration["folds"]:
            fold["peak_memory_mb"] = _window_peak(samples, [[fold["started"], fold["ended"]]])
        for step in configuration["steps"]:
            step["peak_memory_mb"] = _window_peak(samples, step.pop("windows"))
    return configurations


def supervise(spec: dict[str, Any]) -> dict[str, Any]:
    limits = spec["limits"]
    # A forked child maps the libraries imported above without having touched
    # their pages, which a fresh Python running the same code would have: that
    # difference is added to its figures, so they match a bare run's peak RSS.
    libraries = _file_backed_bytes("self")
    memory_limit = int(limits["memory_mb"]) * 2**20
    cpu_limit = float(limits["cpu_seconds"])
    deadline = time.monotonic() + float(limits["wall_seconds"])
    child = os.fork()
    if child == 0:
        _student(spec)
    started = time.monotonic()
    # Readable when the student's process ends: the sampling pause ends with it,
    # instead of up to one sampling interval later.
    ended_fd = os.pidfd_open(child)
    untouched = max(0, libraries - _file_backed_bytes(child))
    samples: list[tuple[float, int]] = []
    status_of: dict[str, int] = {}
    killed_for = ""
    while _reap(child, status_of):
        tree = _tree()
        rss, live_cpu = _sample(tree)
        rss += untouched
        samples.append((time.monotonic(), rss))
        used = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = live_cpu + used.ru_utime + used.ru_stime
        if rss > memory_limit:
            killed_for = f"memory limit of {limits['memory_mb']} MB exceeded" + (
                f" by {len(tree)} processes" if len(tree) > 1 else ""
            )
        elif cpu > cpu_limit + 0.5:
            killed_for = f"CPU time limit of {limits['cpu_seconds']} s exceeded"
        elif time.monotonic() > deadline:
            killed_for = f"wall-clock limit of {limits['wall_seconds']} s exceeded"
        if killed_for:
            break
        select.select([ended_fd], [], [], SAMPLE_SECONDS)
    os.close(ended_fd)
    ended: dict[int, int] = {}
    _kill_tree(ended)  # orphans come to this subreaper: every one is killed and reaped
    if child in ended:
        status_of["main"] = ended[child]
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak = max([rss for _, rss in samples] + [used.ru_maxrss * 1024 + untouched])
    report: dict[str, Any] = {
        "killed_for": killed_for,
        "status": status_of.get("main", -1),
        "phase": _read(f"{OUT}/phase"),
        "cpu_seconds": used.ru_utime + used.ru_stime,
        "peak_memory_mb": peak / 2**20,
        "wall_seconds": time.monotonic() - started,
        "stdout_tail": _tail(f"{OUT}/stdout"),
        "stderr_tail": _tail(f"{OUT}/stderr"),
        "configurations": None,
    }
    raw = _read(f"{OUT}/result.json")
    if raw and not killed_for:
        try:
            result = json.loads(raw)
        except ValueError:
            result = {}
        try:
            report["configurations"] = _with_memory(result["configurations"], samples)
        except (TypeError, KeyError, ValueError, AttributeError):
            pass  # not what the runner writes: the judge worker reports it as a crash
        else:
            # The .npy bytes as they are: the judge worker reads them safely.
            report["predictions"] = base64.b64encode(_read_bytes(f"{OUT}/predictions.npy")).decode()
            report["models"] = base64.b64encode(_read_bytes(f"{OUT}/models")).decode()
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
    _prctl(PR_SET_DUMPABLE, 0)
    serve()


if __name__ == "__main__":
    main()
