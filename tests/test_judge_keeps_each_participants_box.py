"""A judge process keeps the boxes of the last participants it judged: students who
take turns each get their own warm box back, never another's, and the least recently
used box beyond the configured number is dropped whole (processes and cgroup)."""

from __future__ import annotations

import os
from pathlib import Path

from tests.judge_kits import GOOD, judge
from tests.test_sandbox_cgroup import wait_until
from worker_wing.judge import sandbox
from worker_wing.judge.sandbox import SandboxConfig


def test_participants_taking_turns_each_get_their_own_box_back(tmp_path: Path) -> None:
    config = SandboxConfig(prewarm=True, work_root=str(tmp_path), kept_boxes=2)
    for participant in ("ada", "bob"):
        assert judge(tmp_path, GOOD, sandbox=config, participant=participant)["ok"] is True
    ada, bob = sandbox.kept_box("ada"), sandbox.kept_box("bob")
    assert ada is not None
    assert bob is not None
    assert ada is not bob

    # Ada comes back after Bob: her own box judges her, warm.
    assert judge(tmp_path, GOOD, sandbox=config, participant="ada")["ok"] is True
    assert sandbox.kept_box("ada") is ada, "Ada's box was not kept while Bob was judged"
    assert ada.jobs == 2

    # A third participant: only two are kept, so Bob's box (least recently used) goes.
    assert judge(tmp_path, GOOD, sandbox=config, participant="cy")["ok"] is True
    assert [box.owner for box in sandbox.kept_boxes()] == ["ada", "cy"]
    assert bob.process is not None
    assert bob.process.poll() is not None, "the dropped box's processes still run"
    assert not any(os.path.exists(path) for path in bob.cgroup.procs_files())

    # Bob back: a new box, not one somebody else used.
    assert judge(tmp_path, GOOD, sandbox=config, participant="bob")["ok"] is True
    again = sandbox.kept_box("bob")
    assert again is not None
    assert again.jobs == 1
    assert again not in (ada, bob, sandbox.kept_box("cy"))
    wait_until(lambda: len(sandbox.kept_boxes()) == 2)
