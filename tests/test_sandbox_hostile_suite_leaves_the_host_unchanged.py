"""After hostile submissions have tried every way out they know, the kernel's
settings, the worker's environment and the worker's files are as they were."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from tests.judge_kits import GOOD, LIMITS, estimator_doing, judge
from tests.test_sandbox_supervisor_is_out_of_the_students_reach import ATTACKS
from worker_wing.judge.sandbox_command import RUNNER_MODULES

SYSCTLS = sorted(
    str(path)
    for folder in ("/proc/sys/kernel", "/proc/sys/vm", "/proc/sys/fs")
    for path in Path(folder).iterdir()
    if path.is_file() and os.access(path, os.R_OK) and path.name != "ns_last_pid"
)
# The kernel changes these itself from one moment to the next.
MOVING = {"random", "entropy_avail", "dentry-state", "inode-nr", "inode-state", "file-nr"}

WRITE_EVERYTHING = """\
for root, folders, files in os.walk('/'):
    if root.startswith(('/proc/self', '/proc/thread-self')) or root.startswith('/sys'):
        folders[:] = []
        continue
    for name in files:
        path = os.path.join(root, name)
        try:
            with open(path, 'a') as handle:
                handle.write('pwned')
        except OSError:
            pass
for name in os.listdir('/proc'):
    if name.isdigit():
        try:
            open(f'/proc/{name}/environ').read()
        except OSError:
            pass"""


def _snapshot(files: list[Path]) -> dict[str, str]:
    values = {}
    for name in SYSCTLS:
        if Path(name).name in MOVING:
            continue
        try:
            values[name] = Path(name).read_text()
        except OSError:
            continue
    for file in files:
        values[str(file)] = hashlib.sha256(file.read_bytes()).hexdigest()
    return values


def test_the_hostile_suite_changes_nothing_of_the_host(tmp_path: Path) -> None:
    repository = Path(__file__).resolve().parent.parent
    runner = repository / "worker_wing" / "judge"
    files = [
        runner / "sandbox_runner.py",
        *(runner / name for name in RUNNER_MODULES),
        repository / "pyproject.toml",
    ]
    environment = dict(os.environ)
    before = _snapshot(files)
    slow = {**LIMITS, "wall_seconds": 300}

    for code in (
        estimator_doing(WRITE_EVERYTHING),
        estimator_doing(ATTACKS),
        estimator_doing("while True:\n    os.fork()"),
        estimator_doing("b = bytearray(20 * 2**30)"),
    ):
        judge(tmp_path, code, limits=slow)

    assert _snapshot(files) == before
    assert dict(os.environ) == environment
    assert judge(tmp_path, GOOD)["ok"] is True
