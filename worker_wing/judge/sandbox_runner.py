"""The sandbox's runner: the nursery, the boxes' zygotes, supervisors and fold
processes that run INSIDE the sandbox; they import nothing of ppipe but the
runner's own modules.

Trust, from the outside in: the judge worker (worker_wing/judge/sandbox.py and
nursery.py) starts bubblewrap as root and drops to an unprivileged host user
before Python starts; the worker alone measures and limits CPU, memory and
processes, through each box's cgroup. Inside, the runner plays five parts:

- the nursery imports the maths libraries once and makes their first calls on
  made-up data (runner_warm.py), then forks one box per participant on the
  worker's order (runner_nursery.py); it never runs a job, never sees a job's
  data, and holds no secret;
- a box's zygote, once the box is in its own cgroup and has confined itself
  (runner_box.py: its own namespaces, /proc, /tmp, /dev/shm and /job/input),
  forks one job supervisor per JSON line on its stdin (a run spec) and waits
  for it; it never reads a job's data, so a later job inherits nothing of an
  earlier one;
- the job supervisor gives itself a new user namespace, reads the features (never
  a label), gives itself a new PID namespace and forks the job's fold init, PID 1
  of it; for each configuration and fold it asks the fold init for the fold,
  records the fold's wall time, and prints ONE JSON line, its report, built from
  what the folds wrote;
- the fold init makes a fresh PID namespace for each fold and forks the fold's
  student process, PID 1 of it; once the student has ended (and with it every
  process of its namespace), it goes back to its own PID namespace (setns, which
  only the student's seccomp filter denies), makes sure nothing of the fold is
  left, and answers;
- the student process gives itself new mount and IPC namespaces, a private
  size-capped /tmp and /dev/shm, and a view of /job/input in which only its own
  fold's training labels exist; it then drops the power over those mounts, sets
  its rlimits, loads the student-stage seccomp filter and runs the student's code
  on that one fold.

So the student's code never holds the labels it is scored on, and cannot see,
signal or trace the supervisor and the zygote (they are outside its PID
namespace, non-dumpable, and ptrace is denied by seccomp), nor anything of
another participant's box: nothing it does can forge a score or break the next
job.

This file, the sandbox's script, is the nursery's main, the boxes' zygote and
the job supervisor; the rest of the runner is in its sibling modules, bound
read-only into the sandbox as this file is (worker_wing/judge/sandbox_command.py's
RUNNER_MODULES): runner_nursery.py (forking boxes), runner_box.py (a box's
namespaces and mounts), runner_confinement.py (a fold's namespaces, mounts,
rlimits, seccomp), runner_fold.py (the fold init and student processes),
runner_labels.py (a fold's labels as the student reads them), runner_steps.py
(a pipeline's steps on one fold), runner_figures.py (checking and summing what
the folds wrote), runner_files.py (the places and files they
share) and runner_warm.py (the nursery's warm-up).
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

# Imported by the nursery, once, before any box is forked: this is what makes a box
# cheap (numpy and pandas come with the runner's modules below).
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
from worker_wing.judge.runner_nursery import BoxOrder, nursery_loop
from worker_wing.judge.runner_warm import warm_up

# A box's zygote's first line: it is confined, in its own cgroup, and takes jobs.
READY = b"ready\n"


def _tree() -> list[int]:
    """This process's descendants (orphans included: it is their subreaper). Never
    more: without bubblewrap, /proc shows the whole machine. Numbered as /proc numbers
    them (the fold init is PID 1 of its own namespace, not of /proc's)."""
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
    found, frontier = [], [int(os.readlink("/proc/self"))]
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
            enter_job_user_namespace()  # before read_inputs: pyarrow may start threads
        inputs = read_inputs(spec)
        if isolated:
            enter_job_pid_namespace()  # after them: no thread starts from here on
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
                # Answered once nothing of the fold is left, before the next fold.
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


def _become_box(order: BoxOrder, input_dir: str, out: str) -> None:
    """A box's zygote, forked from the nursery and confined (runner_nursery.py): one
    participant's jobs, each in a fresh supervisor; never returns."""
    del order  # its name and settings served the box's confinement
    PLACES.input, PLACES.out = input_dir, out
    prctl(PR_SET_CHILD_SUBREAPER, 1)
    # Neither the zygote nor its forks (the supervisors) can then be traced or have
    # their memory read by anything of the same user.
    prctl(PR_SET_DUMPABLE, 0)
    # The worker measures the box's cgroup from here on: its figures are the jobs'.
    _write_all(READY)
    serve()
    os._exit(0)


def main() -> None:
    """The nursery: argv names the folder of box sub-folders and the binds below /tmp."""
    boxes, PLACES.kept = sys.argv[1], sys.argv[2:]
    # Nothing of the same user can trace the nursery or read its memory.
    prctl(PR_SET_DUMPABLE, 0)
    warm_up()
    nursery_loop(boxes, PLACES.kept, _become_box)


if __name__ == "__main__":
    main()
