"""A nursery that cannot start fails its job with the reason it gave, as a
platform failure to be judged again, and the next job gets a new nursery."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.judge_kits import GOOD, judge
from worker_wing.judge import sandbox
from worker_wing.judge.sandbox import SandboxConfig

BROKEN = "import sys\nsys.stderr.write('no libraries on this host\\n')\nsys.exit(3)\n"


def test_a_nursery_that_cannot_start_says_why_and_is_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = SandboxConfig(mode="none", prewarm=False, work_root=str(tmp_path))
    broken = tmp_path / "broken_runner.py"
    broken.write_text(BROKEN)
    monkeypatch.setattr(sandbox, "RUNNER", broken)

    failed = judge(tmp_path, GOOD, sandbox=config)
    monkeypatch.undo()
    scored = judge(tmp_path, GOOD, sandbox=config)

    assert failed["ok"] is False
    assert failed["transient"] is True
    assert "the sandbox did not start" in failed["reason"], failed["reason"]
    assert "no libraries on this host" in failed["reason"], failed["reason"]
    assert scored["ok"] is True, scored["reason"]
