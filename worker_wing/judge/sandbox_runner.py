"""The sandbox's runner: the zygote, supervisors and fold processes that run
INSIDE the sandbox; they import nothing of ppipe but the runner's own modules.

Trust, from the outside in: the judge worker (worker_wing/judge/sandbox.py) starts
bubblewrap as root and drops to an unprivileged host user before Python starts;
the worker alone measures and limits CPU, memory and processes, through the
sandbox's cgroup. Inside, the runner plays four parts:

- the zygote imports the maths libraries once and makes their first calls on
  made-up data (runner_warm.py), then forks one job supervisor
  per JSON line on stdin (a run spec) and waits for it; it never reads a job's
  data, so a later job inherits nothing of an earlier one;
- the job supervisor gives itself new user and PID namespaces, reads the features
  (never a label), and forks the job's fold init, PID 1 of that PID namespace;
  for each configuration and fold it asks the fold init for the fold, records
  the fold's wall time, and prints ONE JSON line, its report, built from what the
  folds wrote;
- the fold init forks the fold's student process, and once it has ended kills and
  reaps everything else of the namespace before it answers: no process of a fold
  is alive when the next fold starts;
- the student process gives itself new mount and IPC namespaces, a private
  size-capped /tmp and /dev/shm, and a view of /job/input in which only its own fold's training labels exist; it then drops the
  power over those mounts, sets its rlimits, loads the student-stage seccomp filter
  and runs the student's code on that one fold.

So the student's code never holds the labels it is scored on, and cannot see,
signal or trace the supervisor and the zygote (they are outside its PID
namespace, non-dumpable, and ptrace is denied by seccomp), nor the fold init
(PID 1 of its namespace, which handles no signal, non-dumpable): nothing it does
can forge a score or break the next fold or job.

This file, the sandbox's script, is the zygote and the job supervisor; the rest
of the runner is in its sibling modules, bound read-only into the sandbox as
this file is (worker_wing/judge/sandbox_command.py's RUNNER_MODULES):
runner_confinement.py (namespaces, mounts, rlimits, seccomp), runner_fold.py
(the fold init and student processes), runner_steps.py (a pipeline's steps on one
fold), runner_figures.py (checking and summing what the folds wrote),
runner_files.py (the places and files they share) and runner_warm.py (the
zygote's warm-up).
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import signal
import sys
import time
from pathlib import Path
from typing import Any

if __name__ == "__main__":
    # `python -I` leaves this script's folder off sys.path: the rest of the runner is
    # imported from the folder that holds worker_wing, found through this file's real
    # path (in the sandbox, /job/runner.py links to the read-only copy at /job/lib).
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

# Imported before the job arrives: this is what makes a warm start cheap (numpy and
# pandas come with the runner's modules below).
import pyarrow.parquet  # noqa: F401 - what pandas reads the inputs with
import sklearn.ensemble
import sklearn.linear_model
import sklearn.pipeline
import sklearn.preprocessing  # noqa: F401

from worker_wing.judge.runner_confinement import (
    PR_SET_CHILD_SUBREAPER,
    PR_SET_DUMPABLE,
    enter_job_pid_namespace,
    enter_job_user_namespace,
    prctl,
)
from worker_wing.judge.runner_figures import (
    FOLD_REPORT_BYTES,
    TAIL_BYTES,
    configuration_figures,
    fold_figures,
    read_capped,
    read_tail,
)
from worker_wing.judge.runner_files import PLACES, write_out
from worker_wing.judge.runner_fold import (
    ISOLATION_EXIT,
    ISOLATION_FAILED,
    read_inputs,
    start_fold_init,
)
from worker_wing.judge.runner_warm import warm_up

# The zygote's first line: its imports are done, it takes jobs.
READY = b"ready\n"


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


def supervise(spec: dict[str, Any]) -> dict[str, Any]:
    """Run every configuration's folds, one fold at a time, and report."""
    isolated = spec.get("isolate", True)
    try:
        if isolated:
            enter_job_user_namespace()  # before read_inputs: pyarrow starts threads
    except OSError as error:
        write_out("phase", f"{ISOLATION_FAILED}: {error}")
        return _report(ISOLATION_EXIT << 8, None, "")
    inputs = read_inputs(spec)
    try:
        if isolated:
            enter_job_pid_namespace()  # after them: no thread is started from here on
    except OSError as error:
        write_out("phase", f"{ISOLATION_FAILED}: {error}")
        return _report(ISOLATION_EXIT << 8, None, "")
    folds = int(inputs[2].max()) + 1
    configurations: list[dict[str, Any]] | None = []
    status, failed = 0, False  # the last fold's wait status
    figures_error = ""
    fold_init = start_fold_init(spec, inputs, _kill_tree)
    try:
        for plan_index, plan in enumerate(spec["plans"]):
            figures, walls = [], []
            for fold in range(folds):
                started = time.monotonic()
                # Answered once the fold's processes are all gone, before the next fold.
                status = fold_init.run_fold(plan_index, fold, fold == folds - 1)
                walls.append((started, time.monotonic()))
                if status != 0:
                    failed = True
                    break
                written = read_capped(f"{PLACES.out}/fold.json", FOLD_REPORT_BYTES)
                if not written:  # ended before the runner wrote them (os._exit): a crash
                    failed = True
                    break
                try:
                    figures.append(fold_figures(written, plan))
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
            configurations.append(configuration_figures(plan, figures, walls))
    finally:
        fold_init.close()
        _kill_tree()
    return _report(status, configurations, figures_error)


def _report(
    status: int, configurations: list[dict[str, Any]] | None, figures_error: str
) -> dict[str, Any]:
    """The job's report, from the last fold's wait status and what the folds wrote."""
    report: dict[str, Any] = {
        "exit_code": os.WEXITSTATUS(status) if os.WIFEXITED(status) else 0,
        "signal": os.WTERMSIG(status) if os.WIFSIGNALED(status) else 0,
        "phase": read_capped(f"{PLACES.out}/phase", TAIL_BYTES).decode("utf-8", "replace"),
        "stdout_tail": read_tail(f"{PLACES.out}/stdout"),
        "stderr_tail": read_tail(f"{PLACES.out}/stderr"),
        "configurations": configurations,
        "figures_error": figures_error,
    }
    if configurations is not None:
        # The .npy bytes as they are: the judge worker reads them safely.
        for name, file in (("predictions", "predictions.npy"), ("models", "models")):
            report[name] = base64.b64encode(read_capped(f"{PLACES.out}/{file}", 2**31)).decode()
    return report


def _write_all(data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(1, view) :]


def _run_job(spec: dict[str, Any]) -> None:
    """The job supervisor, in a child of the zygote; never returns."""
    status = 1
    try:
        prctl(PR_SET_CHILD_SUBREAPER, 1)
        _write_all((json.dumps(supervise(spec)) + "\n").encode())
        status = 0
    except BaseException as error:
        with contextlib.suppress(Exception):
            _write_all((json.dumps({"error": f"the supervisor failed: {error!r}"}) + "\n").encode())
    finally:
        os._exit(status)


def _clear_out() -> None:
    os.makedirs(PLACES.out, mode=0o700, exist_ok=True)
    for name in os.listdir(PLACES.out):
        with contextlib.suppress(OSError):
            os.unlink(f"{PLACES.out}/{name}")


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
    PLACES.input, PLACES.out, PLACES.kept = sys.argv[1], sys.argv[2], sys.argv[3:]
    prctl(PR_SET_CHILD_SUBREAPER, 1)
    # Neither the zygote nor its forks (the supervisors) can then be traced or have
    # their memory read by anything of the same user.
    prctl(PR_SET_DUMPABLE, 0)
    warm_up()
    # The libraries are imported: from here on the cgroup's figures are the jobs'.
    _write_all(READY)
    serve()


if __name__ == "__main__":
    main()
