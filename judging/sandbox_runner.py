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
import contextlib
import ctypes
import json
import os
import resource
import select
import signal
import sys
import time
import traceback
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
    global _phase_fd, _result_fd, _predictions_fd
    status = 1
    try:
        # Opened before the private /tmp hides the folder they are in.
        os.dup2(_out("stdout"), 1)
        os.dup2(_out("stderr"), 2)
        _phase_fd, _result_fd = _out("phase"), _out("result.json")
        _predictions_fd = _out("predictions.npy")
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


_phase_fd = _result_fd = _predictions_fd = -1


def _phase(name: str) -> None:
    os.ftruncate(_phase_fd, 0)
    os.pwrite(_phase_fd, name.encode(), 0)


def _train_and_predict(spec: dict[str, Any]) -> int:
    target, id_column = spec["target_column"], spec["id_column"]
    train = pd.read_parquet(f"{INPUT}/train.parquet")
    test = pd.read_parquet(f"{INPUT}/test.parquet")
    fold_of = np.load(f"{INPUT}/folds.npy", allow_pickle=False)
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
    for index in range(int(fold_of.max()) + 1):
        mask = fold_of == index
        before = resource.getrusage(resource.RUSAGE_SELF)
        started = time.monotonic()
        _phase(f"get_estimator() for fold {index}")
        model = estimator.get_estimator()
        _phase(f"fit on fold {index}")
        model.fit(x_all[~mask], y_all[~mask])
        fitted = time.monotonic()
        _phase(f"predict on fold {index}")
        predicted = _as_column(model.predict(x_all[mask]))
        test_predicted = _as_column(model.predict(x_test))
        ended = time.monotonic()
        _phase(f"writing the predictions of fold {index}")
        _save(_predictions_fd, predicted)
        _save(_predictions_fd, test_predicted)
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
            }
        )
    with open(_result_fd, "w", closefd=False) as handle:
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
            # The .npy bytes as they are: the judge worker reads them safely.
            report["predictions"] = base64.b64encode(_read_bytes(f"{OUT}/predictions.npy")).decode()
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
