"""The judge worker reads a sandbox's report with its size and its structure
checked before anything is parsed: a report too large, too wide or too deep
fails its job with a clear reason, and the worker's memory stays bounded.

The bound stated and held here: reading any report raises the worker's peak
resident memory by less than 200 MB (the report limit is 64 MB at a 16 MB file
limit; parsing 20 million empty lists would cost gigabytes)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.judge_kits import GOOD, judge
from worker_wing.judge import sandbox
from worker_wing.judge.sandbox import SandboxConfig

STAND_IN = Path(__file__).with_name("hostile_supervisor_stand_in.py")
BOUND_KB = 200 * 1024


def _peak_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    raise AssertionError("no VmHWM")


def _rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


@pytest.mark.parametrize(
    ("report", "reason"),
    [
        ("wide", "holds more than 200000 values"),
        ("deep", "nested deeper than 24 levels"),
        ("huge", "larger than 64 MB"),
    ],
)
def test_a_hostile_report_fails_its_job_and_the_worker_stays_small(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, report: str, reason: str
) -> None:
    monkeypatch.setattr(sandbox, "RUNNER", STAND_IN)
    monkeypatch.setenv("PPIPE_TEST_REPORT", report)
    config = SandboxConfig(mode="none", prewarm=False, work_root=str(tmp_path))
    Path("/proc/self/clear_refs").write_text("5")  # resets the peak (VmHWM)
    before = _rss_kb()

    result = judge(tmp_path, GOOD, sandbox=config)

    assert result["ok"] is False
    assert result["transient"] is False
    assert "the sandbox's report was refused" in result["reason"]
    assert reason in result["reason"], result["reason"]
    assert _peak_kb() - before < BOUND_KB
