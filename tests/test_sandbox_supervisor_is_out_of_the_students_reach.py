"""A student cannot signal or trace the sandbox's supervisor, its zygote or any
process outside its own: the next student's job on the same worker scores."""

from __future__ import annotations

from pathlib import Path

from tests.judge_kits import GOOD, estimator_doing, judge

# Every process the student's /proc lists (the sandbox's: its zygote, the job's
# supervisor, the fold's parent) is stopped, killed and traced, then everything
# kill(-1) reaches. The numbers in that /proc are not the student's PID
# namespace's: a kill that "succeeds" there hits the student's own threads. So
# the proof is the effect: had the supervisor been stopped or killed, this job
# would not score, and a trace that succeeds is recorded.
ATTACKS = """\
import ctypes, signal
libc = ctypes.CDLL(None, use_errno=True)
traced = []
for entry in os.listdir('/proc'):
    if not entry.isdigit() or entry in os.listdir('/proc/self/task'):
        continue
    pid = int(entry)
    for number in (signal.SIGSTOP, signal.SIGKILL):
        try:
            os.kill(pid, number)
        except OSError:
            pass
    if libc.ptrace(16, pid, None, None) == 0:  # PTRACE_ATTACH
        traced.append(pid)
if libc.ptrace(0, 0, None, None) == 0:  # PTRACE_TRACEME
    traced.append('self')
for number in (signal.SIGSTOP, signal.SIGKILL):
    try:
        os.kill(-1, number)  # every process it may signal, but itself
    except ProcessLookupError:
        pass
assert not traced, traced"""


def test_signals_and_ptrace_reach_nothing_and_the_next_student_scores(tmp_path: Path) -> None:
    hostile = judge(tmp_path, estimator_doing(ATTACKS), participant="participant-1")
    next_student = judge(tmp_path, GOOD, participant="participant-2")

    assert hostile["ok"] is True, hostile["reason"]
    assert next_student["ok"] is True, next_student["reason"]


def test_a_stopped_parent_of_a_warm_sandbox_does_not_fail_the_same_students_next_job(
    tmp_path: Path,
) -> None:
    # Stopping "the parent" stopped the old sandbox's supervisor. Now getppid() is 0
    # in the student's PID namespace: kill(0) reaches its own process group only,
    # whose leader, PID 1 of that namespace, ignores SIGSTOP.
    stop_parent = estimator_doing("import signal\nos.kill(os.getppid(), signal.SIGSTOP)")

    first = judge(tmp_path, stop_parent, participant="participant-1")
    second = judge(tmp_path, GOOD, participant="participant-1")

    assert first["ok"] is True, first["reason"]
    assert second["ok"] is True, second["reason"]
