"""Killing a box (at a limit) kills nothing else: the nursery and another
participant's box go on judging. Killing the nursery leaves no box running."""

from __future__ import annotations

import os
import signal
from pathlib import Path

from tests.judge_kits import GOOD, LIMITS, estimator_doing, judge
from tests.test_sandbox_cgroup import wait_until
from worker_wing.judge import sandbox
from worker_wing.judge.sandbox import SandboxConfig


def test_a_box_killed_at_its_cpu_limit_leaves_the_nursery_and_another_box_working(
    tmp_path: Path,
) -> None:
    config = SandboxConfig(prewarm=True, work_root=str(tmp_path))
    judge(tmp_path, GOOD, sandbox=config, participant="participant-1")
    nursery, kept = sandbox._nursery, sandbox.kept_box("participant-1")
    assert nursery is not None
    assert kept is not None

    burnt = judge(
        tmp_path,
        estimator_doing("while True:\n    pass"),
        sandbox=config,
        participant="participant-2",
        limits={**LIMITS, "cpu_seconds": 2, "wall_seconds": 600},
    )
    again = judge(tmp_path, GOOD, sandbox=config, participant="participant-1")
    third = judge(tmp_path, GOOD, sandbox=config, participant="participant-3")

    assert "CPU time limit of 2 s exceeded" in burnt["reason"], burnt["reason"]
    assert sandbox._nursery is nursery, "the nursery was replaced"
    assert nursery.process.poll() is None
    assert again["ok"] is True, again["reason"]
    assert kept.jobs == 2, "the first participant's box was not the one that judged again"
    assert third["ok"] is True, third["reason"]


def test_a_killed_nursery_leaves_no_box_running(tmp_path: Path) -> None:
    config = SandboxConfig(prewarm=False, work_root=str(tmp_path))
    judge(tmp_path, GOOD, sandbox=config, participant="participant-1")
    nursery, kept = sandbox._nursery, sandbox.kept_box("participant-1")
    assert nursery is not None
    assert kept is not None
    assert kept.process is not None
    assert kept.zygote is not None
    assert kept.process.poll() is None

    os.kill(nursery.host_pid, signal.SIGKILL)

    wait_until(lambda: kept.process.poll() is not None and kept.zygote.poll() is not None)  # type: ignore[union-attr]
    assert judge(tmp_path, GOOD, sandbox=config, participant="participant-1")["ok"] is True
    assert sandbox._nursery is not nursery, "a dead nursery was kept"
