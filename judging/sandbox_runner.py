"""The supervisor that runs INSIDE the sandbox; it imports nothing of ppipe.

Started ahead of its job (warm): it imports the maths libraries, then waits for
one JSON line on stdin (the run spec). It forks the student process, which sets
its rlimits, trains and predicts on every fold and writes the predictions to
the sandbox's tmpfs. Meanwhile the supervisor samples the memory and CPU of the
whole process tree (rusage seen from outside bubblewrap is empty), kills the
tree at a limit, reaps everything and prints ONE JSON report on stdout.

It makes itself a child subreaper, so processes the student orphans are still
measured and reaped, and non-dumpable, so the student process (same user)
cannot ptrace it or read its file descriptors to forge the report.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import os
import resource
import signal
import sys
import time
import traceback
from typing import Any

# Imported before the job arrives: this is what makes a warm start cheap.
import numpy as np
import pandas as pd
import sklearn.ensemble
import sklearn.linear_model
import sklearn.pipeline
import sklearn.preprocessing  # noqa: F401

PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36
# Set from argv: in bubblewrap, /job/input (read-only) and a folder on the tmpfs.
INPUT = "/job/input"
OUT = "/tmp/ppipe-out"  # noqa: S108 - inside the sandbox's private tmpfs
TAIL_BYTES = 8000
SAMPLE_SECONDS = 0.02
PAGE = os.sysconf("SC_PAGE_SIZE")
TICKS = os.sysconf("SC_CLK_TCK")


def _prctl(option: int, value: int) -> None:
    ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)


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


def _to_list(predictions: Any) -> list[Any]:
    values = np.asarray(predictions)
    if values.ndim != 1:
        values = values.reshape(len(values), -1)[:, 0] if values.ndim > 1 else values.reshape(-1)
    return [v.item() if hasattr(v, "item") else v for v in values.tolist()]


def _student(spec: dict[str, Any]) -> None:
    """Runs in the forked child; never returns."""
    status = 1
    try:
        os.makedirs(OUT, exist_ok=True)
        stdout = os.open(f"{OUT}/stdout", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        stderr = os.open(f"{OUT}/stderr", os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(stdout, 1)
        os.dup2(stderr, 2)
        os.close(0)
        sys.stdout = open(1, "w", buffering=1, closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", buffering=1, closefd=False)  # noqa: SIM115
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


def _phase(name: str) -> None:
    with open(f"{OUT}/phase", "w") as handle:
        handle.write(name)


def _train_and_predict(spec: dict[str, Any]) -> int:
    target, id_column = spec["target_column"], spec["id_column"]
    train = pd.read_parquet(f"{INPUT}/train.parquet")
    test = pd.read_parquet(f"{INPUT}/test.parquet")
    with open(f"{INPUT}/folds.json") as handle:
        folds = json.load(handle)
    drop = [c for c in (target, id_column) if c and c in train.columns]
    x_all, y_all = train.drop(columns=drop), train[target]
    x_test = test.drop(columns=[c for c in (id_column,) if c and c in test.columns])
    _phase("importing estimator.py")
    sys.path.insert(0, f"{INPUT}/submission")
    import estimator

    if not hasattr(estimator, "get_estimator"):
        _phase("estimator.py has no get_estimator()")
        return 3
    results = []
    for index, validation in enumerate(folds):
        mask = np.zeros(len(train), dtype=bool)
        mask[validation] = True
        before = resource.getrusage(resource.RUSAGE_SELF)
        started = time.monotonic()
        _phase(f"get_estimator() for fold {index}")
        model = estimator.get_estimator()
        _phase(f"fit on fold {index}")
        model.fit(x_all[~mask], y_all[~mask])
        fitted = time.monotonic()
        _phase(f"predict on fold {index}")
        predicted = _to_list(model.predict(x_all[mask]))
        test_predicted = _to_list(model.predict(x_test))
        ended = time.monotonic()
        after = resource.getrusage(resource.RUSAGE_SELF)
        results.append(
            {
                "index": index,
                "started": started,
                "ended": ended,
                "fit_seconds": fitted - started,
                "predict_seconds": ended - fitted,
                "cpu_seconds": (after.ru_utime + after.ru_stime)
                - (before.ru_utime + before.ru_stime),
                "predictions": predicted,
                "test_predictions": test_predicted,
            }
        )
    _phase("writing predictions")
    with open(f"{OUT}/result.json", "w") as handle:
        json.dump(results, handle)
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


def _kill_tree() -> None:
    for pid in _tree():
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)


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
        time.sleep(SAMPLE_SECONDS)
    _kill_tree()
    while True:  # orphans come to this subreaper; wait for every one
        try:
            pid, status = os.waitpid(-1, 0)
        except ChildProcessError:
            break
        if pid == child:
            status_of["main"] = status
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
        "folds": None,
    }
    raw = _read(f"{OUT}/result.json")
    if raw and not killed_for:
        try:
            folds = json.loads(raw)
        except ValueError:
            folds = None
        if isinstance(folds, list):
            for fold in folds:
                window = [r for t, r in samples if fold["started"] <= t <= fold["ended"]]
                fold["peak_memory_mb"] = max(window or [0]) / 2**20
            report["folds"] = folds
    return report


def main() -> None:
    global INPUT, OUT
    INPUT, OUT = sys.argv[1], sys.argv[2]
    _prctl(PR_SET_CHILD_SUBREAPER, 1)
    _prctl(PR_SET_DUMPABLE, 0)
    line = sys.stdin.readline()
    if not line:
        return  # a spare sandbox that was never used
    report = supervise(json.loads(line))
    sys.stdout.write(json.dumps(report))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
