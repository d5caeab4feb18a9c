"""Hostile and broken submissions, run in real bubblewrap: each ends failed with
a reason that names what happened, and the worker judges the next job normally."""

from __future__ import annotations

from pathlib import Path

import psutil
import pytest

from tests.judge_kits import (
    GOOD,
    LIMITS,
    WALL_LIMITED,
    estimator_doing,
    estimator_predicting,
    judge,
)
from tests.servers import http_server
from worker_wing.judge import sandbox

CASES = {
    "syntax error": ("def get_estimator(:\n", "raised SyntaxError"),
    "no get_estimator": ("x = 1\n", "has no get_estimator()"),
    "exception in fit": (estimator_doing("raise ValueError('boom')"), "raised ValueError: boom"),
    "long sleep": (estimator_doing("time.sleep(60)"), "wall-clock limit of 10 s"),
    "20 GB": (estimator_doing("b = bytearray(20 * 2**30)"), "memory limit of 512 MB"),
    # Whichever comes first, the processes or their memory, is named.
    "fork bomb": (estimator_doing("while True:\n    os.fork()"), " process"),
    "10 GB file": (
        estimator_doing("with open('big', 'wb') as f:\n    f.write(bytes(10 * 2**30))"),
        "memory limit of 512 MB",
    ),
    "a file past the limit": (
        estimator_doing(
            "with open('big', 'wb') as f:\n    for _ in range(64):\n        f.write(bytes(2**20))"
        ),
        "grew past the limit of 16 MB",
    ),
    "100 MB on stdout": (
        estimator_doing("for _ in range(100):\n    sys.stdout.write('x' * 2**20)"),
        "grew past the limit of 16 MB",
    ),
    "os._exit in fit": (estimator_doing("os._exit(0)"), "exited (code 0) during fit"),
    "reading /etc/shadow": (
        estimator_doing("open('/etc/shadow').read()"),
        "raised FileNotFoundError",
    ),
    "predictions of the wrong length": (
        estimator_predicting("np.zeros(len(X) - 1)"),
        "predict returned 39 predictions for 40 rows",
    ),
    "NaN predictions": (
        estimator_predicting("np.full(len(X), np.nan)"),
        "contain NaN, infinite or missing values",
    ),
    "None among the predictions": (
        estimator_predicting("[None] + [0] * (len(X) - 1)"),
        "contain NaN, infinite or missing values",
    ),
    "strings for numeric labels": (
        estimator_predicting("np.array(['setosa'] * len(X))"),
        "cannot be scored",
    ),
    "objects as predictions": (
        estimator_predicting("[{'label': 0}] * len(X)"),
        "raised TypeError",
    ),
    "a forged predictions file": (
        # Garbage written through the student's own descriptor to the file.
        estimator_predicting("forge(X)").replace(
            "class Odd",
            "def forge(X):\n"
            "    for name in os.listdir('/proc/self/fd'):\n"
            "        if os.path.realpath(f'/proc/self/fd/{name}').endswith('predictions.npy'):\n"
            "            os.write(int(name), b'PWNED' * 1000)\n"
            "    return np.zeros(len(X))\n\n\nclass Odd",
        ),
        "are not readable",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_hostile_code_fails_with_a_clear_reason_and_the_worker_goes_on(
    tmp_path: Path, case: str
) -> None:
    code, reason = CASES[case]
    # Only the sleeper meets the wall limit; the others keep it far away (LIMITS).
    limits = WALL_LIMITED if case == "long sleep" else LIMITS

    result = judge(tmp_path, code, limits=limits)

    assert result["ok"] is False
    assert result["transient"] is False
    assert reason in result["reason"], result
    assert judge(tmp_path, GOOD)["ok"] is True


def test_an_endless_loop_is_stopped_by_its_cpu_limit_not_the_clock(tmp_path: Path) -> None:
    # A wall limit far past the CPU limit (LIMITS): on a busy machine the loop gets a
    # fraction of a core, and only the CPU limit can be the one that stops it.
    result = judge(tmp_path, estimator_doing("while True:\n    pass"))

    assert result["ok"] is False
    assert result["transient"] is False
    assert "CPU time limit of 5 s" in result["reason"], result


def test_nothing_of_a_fork_bomb_outlives_its_job(tmp_path: Path) -> None:
    # The sandbox has its own PID namespace, so every process of the job, orphans
    # included, descends from this process (the judge runs in it). Other runs on the
    # machine start processes too, so only this process's own descendants are counted.
    before = {child.pid for child in psutil.Process().children(recursive=True)}

    judge(tmp_path, estimator_doing("while True:\n    os.fork()"))

    # What may stay: the nursery, and the box kept warm for the participant's next
    # job (its first process and its zygote), all idle. Each of the bomb's forks
    # would be another process with the runner's command line.
    idle = {sandbox._nursery.host_pid} if sandbox._nursery is not None else set()
    for box in sandbox.kept_boxes():
        idle |= {p.pid for p in (box.process, box.zygote) if p is not None}
    left = [
        described
        for child in psutil.Process().children(recursive=True)
        if child.pid not in before | idle and (described := _alive(child)) is not None
    ]
    assert left == [], left


def _alive(process: psutil.Process) -> str | None:
    """The command line of a process still alive; None for a dead one waiting to be
    reaped (the job's killed orphans are reaped by its box a moment later) or gone."""
    try:
        with process.oneshot():
            if process.status() == psutil.STATUS_ZOMBIE or process.name() == "bwrap":
                return None
            return " ".join(process.cmdline())
    except psutil.NoSuchProcess:
        return None


def test_the_network_is_gone_inside(tmp_path: Path) -> None:
    with http_server() as (port, requests):
        code = estimator_doing(f"socket.create_connection(('127.0.0.1', {port}), timeout=2)")
        result = judge(tmp_path, code)

    assert "Connection refused" in result["reason"] or "unreachable" in result["reason"]
    assert requests == []
