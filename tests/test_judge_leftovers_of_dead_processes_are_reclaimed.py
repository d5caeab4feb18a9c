"""A judge process that starts its nursery reclaims what dead judge processes left (their
nurseries' folders and their sandboxes' cgroups, killing what still runs there), and
never what a live judge process holds.

Real judge processes: each runs a long job through the executor in a subprocess;
real cgroups (v1 on these machines, as root)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path

import pytest

from tests.test_sandbox_cgroup import start_in, wait_until
from worker_wing.judge.job_cgroup import SandboxCgroup, sandbox_cgroup_names
from worker_wing.judge.leftovers import OLD_AGE_SECONDS, process_owner, reclaim_leftovers
from worker_wing.judge.nursery import Nursery
from worker_wing.judge.sandbox import RUNNER, SandboxConfig

REPOSITORY = Path(__file__).resolve().parent.parent
# A judge process in the middle of a job that sleeps for an hour.
JUDGE_A_LONG_JOB = """
import sys
from pathlib import Path
from tests.judge_kits import LIMITS, estimator_doing, judge
from worker_wing.judge.sandbox import SandboxConfig

judge(
    Path(sys.argv[2]),
    estimator_doing("time.sleep(3600)"),
    sandbox=SandboxConfig(prewarm=False, work_root=sys.argv[1]),
    limits={**LIMITS, "wall_seconds": 3600},
)
"""


def owned(prefix: str, names: Iterable[str]) -> list[str]:
    return sorted(name for name in names if name.startswith(prefix))


def judge_mid_job(work: Path, artifacts: Path) -> tuple[subprocess.Popen[bytes], str]:
    """A judge process whose box is running its job, and the prefix of its leftovers' names."""
    process = subprocess.Popen(
        [sys.executable, "-c", JUDGE_A_LONG_JOB, str(work), str(artifacts)], cwd=REPOSITORY
    )
    owner = process_owner(process.pid)
    assert owner is not None
    prefix = f"ppipe-judge-{owner.tag}-"

    def box_running() -> bool:
        assert process.poll() is None, "the judge process ended"
        boxes = [name for name in owned(prefix, sandbox_cgroup_names()) if "-box" in name]
        return any(SandboxCgroup.existing(name).pids() for name in boxes)

    wait_until(box_running, seconds=180)
    return process, prefix


def test_a_new_nursery_reclaims_a_killed_judge_process_leftovers_and_spares_a_live_one(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    dead, dead_prefix = judge_mid_job(work, tmp_path / "dead")
    live, live_prefix = judge_mid_job(work, tmp_path / "live")
    orphan = None
    try:
        # A process of the dead one's box that survives it, as an escaped orphan would.
        box = next(name for name in owned(dead_prefix, sandbox_cgroup_names()) if "-box" in name)
        held = SandboxCgroup.existing(box)
        before = set(held.pids())
        orphan = start_in(held, "sleep 3600")
        wait_until(lambda: len(set(held.pids()) - before) > 0)
        dead.kill()
        dead.wait()
        assert owned(dead_prefix, os.listdir(work)), "the killed judge left no folder"
        live_cgroups = owned(live_prefix, sandbox_cgroup_names())
        live_folders = owned(live_prefix, os.listdir(work))

        caplog.set_level(logging.INFO, logger="worker_wing.judge.leftovers")
        nursery = Nursery.start(SandboxConfig(prewarm=False, work_root=str(work)), 1, RUNNER)
        nursery.discard()

        assert owned(dead_prefix, sandbox_cgroup_names()) == []
        assert owned(dead_prefix, os.listdir(work)) == []
        assert orphan.wait(timeout=60) == 128 + 9, "the orphan in the box's cgroup survived"
        assert "reclaimed the leftovers of dead judge processes" in caplog.text
        assert live.poll() is None
        assert owned(live_prefix, sandbox_cgroup_names()) == live_cgroups
        assert owned(live_prefix, os.listdir(work)) == live_folders
        live_boxes = [name for name in live_cgroups if "-box" in name]
        assert any(SandboxCgroup.existing(name).pids() for name in live_boxes)
    finally:
        for process in (dead, live, orphan):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait()
        reclaim_leftovers(str(work))


def test_leftovers_named_without_an_owner_are_reclaimed_only_idle_for_a_day(
    tmp_path: Path,
) -> None:
    def old_style(kind: str) -> str:
        return f"ppipe-judge-{kind}{uuid.uuid4().hex[:4]}"

    long_ago = time.time() - OLD_AGE_SECONDS - 3600
    kinds = ("idle", "rcnt", "busy")
    idle, recent, busy = (SandboxCgroup.create(old_style(kind)) for kind in kinds)
    worker = start_in(busy, "sleep 3600")
    wait_until(lambda: bool(busy.pids()))
    for cgroup in (idle, busy):
        for procs in cgroup.procs_files():
            os.utime(os.path.dirname(procs), (long_ago, long_ago))
    forgotten, fresh = tmp_path / old_style("frgt"), tmp_path / old_style("frsh")
    for folder in (forgotten, fresh):
        (folder / "box1").mkdir(parents=True)
        (folder / "box1" / "train.parquet").write_bytes(b"x" * 1000)
    for path in (forgotten / "box1" / "train.parquet", forgotten / "box1", forgotten):
        os.utime(path, (long_ago, long_ago))
    try:
        reclaimed = reclaim_leftovers(str(tmp_path))

        names = sandbox_cgroup_names()
        assert (reclaimed.folders, reclaimed.bytes) == (1, 1000)
        assert not forgotten.exists()
        assert fresh.exists()
        assert idle.procs_files()[0].split("/")[-2] not in names
        assert recent.procs_files()[0].split("/")[-2] in names
        assert busy.procs_files()[0].split("/")[-2] in names
        assert worker.poll() is None
    finally:
        for cgroup in (idle, recent, busy):
            cgroup.remove()
        worker.wait(timeout=60)


def test_a_reused_pid_does_not_pass_for_the_process_that_left_a_folder(tmp_path: Path) -> None:
    this = process_owner(os.getpid())
    assert this is not None
    # What an earlier process given this pid would have left: another start time.
    earlier = replace(this, started=this.started - 1)
    left, ours = (tmp_path / f"ppipe-judge-{owner.tag}-abcd1234" for owner in (earlier, this))
    left.mkdir()
    ours.mkdir()

    reclaim_leftovers(str(tmp_path))

    assert not left.exists()
    assert ours.exists()
