"""A process a fold's student leaves running (detached, in a session of its own) is
gone before the job's next fold starts: each fold's student is PID 1 of a fresh PID
namespace, and the job's fold init makes the next one only once the last has ended
(worker_wing/judge/runner_fold.py)."""

from __future__ import annotations

from pathlib import Path

from tests.judge_kits import estimator_doing, judge

# Every fold first looks, through the sandbox's /proc (which lists every process of
# the box, whatever PID namespace it is in), for what an earlier fold left, then
# leaves a sleeper of its own behind, named so that the next fold can find it.
LEAVE_A_SLEEPER = """\
import ctypes
left = []
for entry in os.listdir('/proc'):
    try:
        with open(f'/proc/{entry}/comm') as comm:
            if comm.read().strip() == 'ppipe-leftover':
                left.append(entry)
    except OSError:
        pass
assert not left, f'an earlier fold left {left} running'
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        ctypes.CDLL(None).prctl(15, b'ppipe-leftover', 0, 0, 0)  # PR_SET_NAME
        time.sleep(300)
    os._exit(0)
os.wait()
time.sleep(0.2)"""


def test_a_process_a_fold_leaves_is_gone_when_the_next_fold_starts(tmp_path: Path) -> None:
    result = judge(tmp_path, estimator_doing(LEAVE_A_SLEEPER))

    assert result["ok"] is True, result["reason"]
    assert len(result["folds"]) > 1
