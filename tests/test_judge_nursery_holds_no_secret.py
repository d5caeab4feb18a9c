"""The nursery, and so every box forked from it, holds nothing of the worker's
environment (its broker password, say): not in its environment, not in its
command line, nowhere in its memory. Read from the host, as root can."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from tests.judge_kits import GOOD, judge
from worker_wing.judge import sandbox
from worker_wing.judge.sandbox import SandboxConfig


def _memory_holds(pid: int, secret: bytes) -> bool:
    """Whether any region of the process that can hold what it wrote holds `secret`
    (a file mapped read-only holds only what is in the file)."""
    pattern = re.compile(re.escape(secret))
    with open(f"/proc/{pid}/maps") as maps, open(f"/proc/{pid}/mem", "rb", 0) as mem:
        for line in maps:
            fields = line.split()
            path = fields[5] if len(fields) > 5 else ""
            if "r" not in fields[1] or (path.startswith("/") and "w" not in fields[1]):
                continue
            if path in ("[vvar]", "[vsyscall]", "[vvar_vclock]"):
                continue
            start, end = (int(x, 16) for x in fields[0].split("-"))
            for at in range(start, end, 2**20):  # in pieces: regions can be large
                try:
                    piece = os.pread(mem.fileno(), min(2**20 + 64, end - at), at)
                except OSError:
                    continue
                if pattern.search(piece):
                    return True
    return False


def _holds(pid: int, secret: bytes) -> bool:
    return (
        secret in Path(f"/proc/{pid}/environ").read_bytes()
        or secret in Path(f"/proc/{pid}/cmdline").read_bytes()
        or _memory_holds(pid, secret)
    )


def test_the_nursery_and_its_boxes_hold_none_of_the_workers_secrets(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = "ppipe-secret-" + os.urandom(12).hex()
    monkeypatch.setenv("CELERY_BROKER_URL", f"redis://:{secret}@127.0.0.1:6379/0")
    monkeypatch.setenv("PPIPE_TEST_SECRET", secret)
    config = SandboxConfig(prewarm=False, work_root=str(tmp_path))

    result = judge(tmp_path, GOOD, sandbox=config, participant="participant-1")

    assert result["ok"] is True, result["reason"]
    nursery, kept = sandbox._nursery, sandbox.kept_box("participant-1")
    assert nursery is not None
    assert kept is not None
    assert kept.zygote is not None
    # The scan finds the secret where it is: in this process, the worker.
    assert _holds(os.getpid(), secret.encode())
    for pid in (nursery.host_pid, kept.zygote.pid):
        assert not _holds(pid, secret.encode()), pid
