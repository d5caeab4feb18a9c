"""A sandbox's cgroup counts, limits and kills every process started into it.

Real cgroups (v1 on these machines, as root); workloads are plain processes that write
their pid into every cgroup.procs file and then exec, as the judge starts bubblewrap.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from subprocess import Popen

import pytest

from tests.servers import patience
from worker_wing.judge.job_cgroup import SandboxCgroup, cgroup_problem

MB = 2**20
JOIN = 'for f; do echo $$ > "$f" || exit 97; done; exec sh -c "$0"'
BURN_HALF_A_SECOND = f"{sys.executable} -c 'import time\nwhile time.process_time() < 0.5: pass'"
# A tmpfs of its own (gone with the mount namespace when the writer dies).
FILL_TMPFS = "unshare -m sh -c 'mount -t tmpfs -o size=1g none /mnt && {}'"
FORK_UNTIL_REFUSED = f"""exec {sys.executable} -c '
import os, time
children = 0
try:
    while children < 100:
        if os.fork() == 0:
            time.sleep(300)
            os._exit(0)
        children += 1
except BlockingIOError:
    pass
print(children + 1, flush=True)
time.sleep(300)'"""
# Jobs run under this reaper, outside the cgroup: orphans of killed processes stay
# charged to pids.current until reaped, and PID 1 here reaps late or never.
REAPER = """
import ctypes, os, subprocess, sys
ctypes.CDLL(None).prctl(36, 1)  # PR_SET_CHILD_SUBREAPER
job, code = subprocess.Popen(sys.argv[1:]), 0
while True:
    try:
        pid, status = os.wait()
    except ChildProcessError:
        sys.exit(code)
    if pid == job.pid:
        code = os.waitstatus_to_exitcode(status)
        code = 128 - code if code < 0 else code
"""


def wait_until(condition: Callable[[], bool], seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds * patience()  # grows with the machine's load
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


@pytest.fixture
def cgroup() -> Iterator[SandboxCgroup]:
    assert cgroup_problem() == ""
    sandbox = SandboxCgroup.create(f"test-{uuid.uuid4().hex[:8]}")
    yield sandbox
    sandbox.remove()
    for procs in sandbox.procs_files():  # the shared parents too, unless in use
        with contextlib.suppress(OSError):
            os.rmdir(os.path.dirname(os.path.dirname(procs)))


def start_in(cgroup: SandboxCgroup, workload: str, stdout: int | None = None) -> Popen[str]:
    """The workload in the cgroup; its exit status is the shell's (128 + signal if killed),
    known once every process it started has ended."""
    command = [sys.executable, "-c", REAPER, "sh", "-c", JOIN, workload, *cgroup.procs_files()]
    return Popen(command, text=True, stdout=stdout)


def test_cpu_of_sequential_children_is_counted(cgroup: SandboxCgroup) -> None:
    job = start_in(cgroup, f"for i in 1 2 3; do {BURN_HALF_A_SECOND}; done")
    assert job.wait(timeout=120) == 0
    assert cgroup.cpu_seconds() >= 1.4


def test_tmpfs_pages_count_toward_memory(cgroup: SandboxCgroup) -> None:
    fill = "dd if=/dev/zero of=/mnt/fill bs=1M count=100 && echo written && sleep 300"
    job = start_in(cgroup, FILL_TMPFS.format(fill), stdout=subprocess.PIPE)
    assert job.stdout is not None
    assert job.stdout.readline() == "written\n"
    assert cgroup.memory_bytes() >= 100 * MB
    assert cgroup.peak_memory_bytes() >= 100 * MB
    cgroup.kill()
    job.wait(timeout=30)


def test_memory_limit_kills_the_writer_and_reports_out_of_memory(cgroup: SandboxCgroup) -> None:
    cgroup.limit(memory_bytes=64 * MB, pids=50)
    job = start_in(cgroup, FILL_TMPFS.format("dd if=/dev/zero of=/mnt/fill bs=1M count=300"))
    assert job.wait(timeout=120) != 0
    assert cgroup.out_of_memory()
    assert 32 * MB < cgroup.peak_memory_bytes() <= 64 * MB


def test_pids_max_refuses_the_eleventh_process(cgroup: SandboxCgroup) -> None:
    cgroup.limit(memory_bytes=512 * MB, pids=10)
    assert not cgroup.pids_refused()
    job = start_in(cgroup, FORK_UNTIL_REFUSED, stdout=subprocess.PIPE)
    assert job.stdout is not None
    assert job.stdout.readline() == "10\n"
    assert cgroup.pids_refused()
    assert len(cgroup.pids()) == 10
    cgroup.kill()
    job.wait(timeout=30)


def test_kill_leaves_no_process(cgroup: SandboxCgroup) -> None:
    job = start_in(cgroup, "sleep 300 & sleep 300 & exec sleep 300")
    wait_until(lambda: len(cgroup.pids()) == 3)
    cgroup.kill()
    assert cgroup.pids() == []
    assert job.wait(timeout=30) == 128 + 9


def test_kill_stops_a_fork_bomb(cgroup: SandboxCgroup) -> None:
    cgroup.limit(memory_bytes=256 * MB, pids=64)
    job = start_in(cgroup, "bomb() { bomb | bomb & }; bomb")
    wait_until(cgroup.pids_refused)
    cgroup.kill()
    assert cgroup.pids() == []
    time.sleep(0.5)  # nothing left that could fork again
    assert cgroup.pids() == []
    job.wait(timeout=60)


def test_remove_deletes_every_directory_and_tolerates_a_second_call(
    cgroup: SandboxCgroup,
) -> None:
    directories = [os.path.dirname(procs) for procs in cgroup.procs_files()]
    job = start_in(cgroup, "sleep 300")
    wait_until(lambda: cgroup.pids() != [])
    cgroup.remove()
    cgroup.remove()
    assert job.wait(timeout=30) == 128 + 9
    assert [path for path in directories if os.path.exists(path)] == []


def test_start_job_resets_cpu_peak_and_out_of_memory(cgroup: SandboxCgroup) -> None:
    cgroup.limit(memory_bytes=64 * MB, pids=50)
    fill = "dd if=/dev/zero of=/mnt/fill bs=1M count=300"
    job = start_in(cgroup, f"{BURN_HALF_A_SECOND}; {FILL_TMPFS.format(fill)}")
    job.wait(timeout=120)
    assert cgroup.out_of_memory()
    assert cgroup.cpu_seconds() >= 0.5

    cgroup.start_job()
    assert start_in(cgroup, "true").wait(timeout=30) == 0
    assert not cgroup.out_of_memory()
    assert cgroup.cpu_seconds() < 0.4
    assert cgroup.peak_memory_bytes() < 16 * MB


def test_start_job_resets_pids_refused(cgroup: SandboxCgroup) -> None:
    cgroup.limit(memory_bytes=512 * MB, pids=10)
    job = start_in(cgroup, FORK_UNTIL_REFUSED, stdout=subprocess.PIPE)
    assert job.stdout is not None
    job.stdout.readline()
    assert cgroup.pids_refused()
    cgroup.kill()
    job.wait(timeout=30)

    cgroup.start_job()
    assert start_in(cgroup, "sleep 0 & sleep 0 & wait").wait(timeout=30) == 0
    assert not cgroup.pids_refused()
