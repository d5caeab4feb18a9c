"""Student code runs as the unprivileged sandbox user, so the kernel's own
checks keep it from the host: no file under /proc/sys can be written, and no
process of the sandbox but bubblewrap's own is root on the host."""

from __future__ import annotations

import pwd
import sys
import threading
import time
from pathlib import Path

import psutil

from tests.judge_kits import estimator_doing, judge

RUNNER_COMMAND = [sys.executable, "-I", "-B", "/job/runner.py"]
SYSCTLS = ("kernel/printk_ratelimit", "kernel/core_pattern", "vm/overcommit_memory")


def test_no_file_under_proc_sys_can_be_written_and_the_host_keeps_its_values(
    tmp_path: Path,
) -> None:
    before = {name: Path(f"/proc/sys/{name}").read_text() for name in SYSCTLS}
    code = estimator_doing(
        "written = []\n"
        f"for name in {SYSCTLS!r}:\n"
        "    try:\n"
        "        with open('/proc/sys/' + name, 'w') as handle:\n"
        "            handle.write('|/tmp/pwn %p' if 'core' in name else '7')\n"
        "    except OSError:\n"
        "        continue\n"
        "    written.append(name)\n"
        "assert not written, written"
    )

    result = judge(tmp_path, code)

    assert result["ok"] is True, result["reason"]
    assert {name: Path(f"/proc/sys/{name}").read_text() for name in SYSCTLS} == before


def test_every_process_of_a_running_job_is_the_sandbox_user(tmp_path: Path) -> None:
    sandbox_uid = pwd.getpwnam("ppipe-sandbox").pw_uid
    seen: dict[int, set[int]] = {}
    done = threading.Event()

    def watch() -> None:
        while not done.is_set():
            for process in psutil.process_iter(["cmdline", "uids"]):
                # Only the interpreter running the runner: bubblewrap and the shells
                # that join the cgroup and uncover /proc before it are root by design,
                # carry the runner's command line as their arguments and exec into it.
                if (process.info["cmdline"] or [])[:4] == RUNNER_COMMAND:
                    seen[process.pid] = set(process.info["uids"] or ())
            time.sleep(0.01)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        # Long enough for the watcher to see the zygote, supervisor, fold and student.
        result = judge(tmp_path, estimator_doing("time.sleep(1)"))
    finally:
        done.set()
        watcher.join()

    assert result["ok"] is True, result["reason"]
    assert len(seen) >= 4, seen
    assert all(uids == {sandbox_uid} for uids in seen.values()), seen
