"""A warm sandbox runs the jobs of one participant only: another participant's
job gets a sandbox nobody's code has touched, and, with room for one box only,
the first one's is dropped."""

from __future__ import annotations

from pathlib import Path

from tests.judge_kits import GOOD, judge
from worker_wing.judge import sandbox
from worker_wing.judge.sandbox import SandboxConfig


def test_a_sandbox_is_reused_by_its_participant_and_by_nobody_else(tmp_path: Path) -> None:
    config = SandboxConfig(prewarm=True, work_root=str(tmp_path), kept_boxes=1)

    judge(tmp_path, GOOD, sandbox=config, participant="participant-1")
    adas = sandbox.kept_box("participant-1")
    judge(tmp_path, GOOD, sandbox=config, participant="participant-1")
    still_adas = sandbox.kept_box("participant-1")
    judge(tmp_path, GOOD, sandbox=config, participant="participant-2")
    graces = sandbox.kept_box("participant-2")

    assert adas is not None
    assert still_adas is adas
    assert adas.jobs == 2
    assert graces is not None
    assert graces is not adas
    assert graces.owner == "participant-2"
    assert graces.jobs == 1
    assert adas.process.poll() is not None, "the first participant's sandbox still runs"
    assert sandbox.kept_box("participant-1") is None
