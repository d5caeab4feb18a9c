"""The judge's seccomp filters, under real bubblewrap on the real kernel.

Each denial is checked twice, in the same sandbox with and without the filter: the call must
reach the kernel without it (succeed, or fail with something other than EPERM), or an EPERM
under the filter would prove nothing.
"""

from __future__ import annotations

import inspect
import json
import subprocess
import sys
import tempfile
from typing import Any

import pytest

from tests.servers import patience
from worker_wing.judge.runner_confinement import install_filter
from worker_wing.judge.sandbox_command import read_only_system
from worker_wing.judge.seccomp_policy import sandbox_filter_bpf, student_filter_bpf

NOBODY = "65534"
SANDBOX_ENV = {
    "PATH": "/usr/bin:/bin",
    "HOME": "/tmp",
    "LANG": "C.UTF-8",
    "OMP_NUM_THREADS": "2",
    "OPENBLAS_NUM_THREADS": "2",
    "MKL_NUM_THREADS": "2",
}

# Shared by the probe scripts: each probe answers "ok", the errno's name, or the signal that
# killed it.
PRELUDE = r"""
import ctypes, errno, fcntl, json, mmap, os, signal, socket, subprocess, sys, termios
import threading, time, traceback

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x20000, 0x4000000, 0x8000000
CLONE_NEWUSER, CLONE_NEWPID = 0x10000000, 0x20000000

def call(number, *args):
    args = [ctypes.c_long(a) if isinstance(a, int) else a for a in args]
    if libc.syscall(ctypes.c_long(number), *args) == -1:
        return errno.errorcode[ctypes.get_errno()]
    return "ok"

def in_child(probe):
    # For calls that change their caller, and for calls that may kill it.
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.write(write_end, probe().encode())
        os._exit(0)
    os.close(write_end)
    status = os.waitpid(pid, 0)[1]
    outcome = os.read(read_end, 100).decode()
    return signal.Signals(os.WTERMSIG(status)).name if os.WIFSIGNALED(status) else outcome

def ptrace_attach():
    target = os.fork()
    if target == 0:
        time.sleep(60)
        os._exit(0)
    try:
        return call(101, 16, target, 0, 0)  # PTRACE_ATTACH
    finally:
        os.kill(target, signal.SIGKILL)
        os.waitpid(target, 0)

def process_vm_readv():
    source, target = ctypes.create_string_buffer(b"secret"), ctypes.create_string_buffer(6)
    local = (ctypes.c_void_p * 2)(ctypes.addressof(target), 6)
    remote = (ctypes.c_void_p * 2)(ctypes.addressof(source), 6)
    return call(310, os.getpid(), local, 1, remote, 1, 0)

def name_to_handle_at():
    handle, mount_id = ctypes.create_string_buffer(b"\x80" + bytes(135)), ctypes.c_int()
    return call(303, -100, b"/tmp", handle, ctypes.byref(mount_id), 0)  # AT_FDCWD

def setns_own_uts():
    if (failed := call(272, CLONE_NEWUSER | CLONE_NEWUTS)) != "ok":
        return "unshare " + failed
    return call(308, os.open("/proc/self/ns/uts", os.O_RDONLY), CLONE_NEWUTS)

def vsock():
    try:
        socket.socket(40, socket.SOCK_STREAM).close()  # AF_VSOCK
        return "ok"
    except OSError as error:
        return errno.errorcode[error.errno]

def tiocsti():
    # Typing into the controlling terminal of a new session, as an attack on the judge's would.
    os.setsid()
    _, tty = os.openpty()
    fcntl.ioctl(tty, termios.TIOCSCTTY, 0)
    try:
        fcntl.ioctl(tty, termios.TIOCSTI, b"x")
        return "ok"
    except OSError as error:
        return errno.errorcode[error.errno]

def int80_getpid():
    # mov eax, 20 (getpid in the i386 table); int 0x80; ret
    code = mmap.mmap(-1, mmap.PAGESIZE, prot=mmap.PROT_READ | mmap.PROT_WRITE | mmap.PROT_EXEC)
    code.write(bytes([0xB8, 20, 0, 0, 0, 0xCD, 0x80, 0xC3]))
    address = ctypes.addressof(ctypes.c_char.from_buffer(code))
    return "ok" if ctypes.CFUNCTYPE(ctypes.c_int)(address)() == os.getpid() else "wrong pid"

def estimators_and_processes():
    import numpy as np, pandas as pd
    from sklearn.linear_model import LogisticRegression
    features = pd.DataFrame(np.random.default_rng(0).normal(size=(300, 3)), columns=list("abc"))
    labels = (features["a"] + features["b"] > 0).astype(int)
    fitted = LogisticRegression().fit(features, labels).score(features, labels) > 0.9
    pid = os.fork()
    if pid == 0:
        os._exit(7)
    forked = os.waitpid(pid, 0)[1] == 7 << 8
    box = []
    thread = threading.Thread(target=box.append, args=(1,))
    thread.start()
    thread.join()
    ran = subprocess.run(["true"], check=False).returncode == 0
    return {"fit": fitted, "fork": forked, "thread": box == [1], "subprocess": ran}
"""

SANDBOX_PROBES = r"""
outcomes = {
    "ptrace_traceme": in_child(lambda: call(101, 0, 0, 0, 0)),
    "ptrace_attach": ptrace_attach(),
    "process_vm_readv": process_vm_readv(),
    "keyctl": call(250, 0, -2, 1),  # KEYCTL_GET_KEYRING_ID of the process keyring, created
    "bpf": call(321, 1000, 0, 0),  # no such command: EINVAL once it gets that far
    "perf_event_open": call(298, 0, 0, -1, -1, 0),  # EFAULT once it reads the attributes
    "userfaultfd": call(323, 1),  # UFFD_USER_MODE_ONLY, open to any user
    "io_uring_setup": call(425, 1, 0),
    "modify_ldt": call(154, 0, ctypes.create_string_buffer(16), 16),
    "name_to_handle_at": name_to_handle_at(),
    "setns": in_child(setns_own_uts),
    "vsock": vsock(),
    "vsock, high bits set": call(41, 0x100000028, socket.SOCK_STREAM, 0),
    "tiocsti": in_child(tiocsti),
    "personality ADDR_NO_RANDOMIZE": in_child(lambda: call(135, 0x40000)),
    "personality ADDR_NO_RANDOMIZE, high bits set": in_child(lambda: call(135, 0x100040000)),
    "personality PER_LINUX": in_child(lambda: call(135, 0)),
    "personality query": call(135, 0xFFFFFFFF),
    "unshare user and mount": in_child(lambda: call(272, CLONE_NEWUSER | CLONE_NEWNS)),
    "i386 int 0x80": in_child(int80_getpid),
}
if sys.argv[1:] == ["estimators"]:
    outcomes.update(estimators_and_processes())
print(json.dumps(outcomes))
"""

# As the runner does: fork from a process that has numpy's threads, make that job's
# namespaces and private /tmp, fork the student. The student's extra, empty user namespace
# is left out: in it the calls below fail without any filter, so they would prove nothing.
# The sandbox filter is on as in production: it allows setns, which the runner's fold init
# uses to go back to its own PID namespace after each fold, and the student's denies.
STUDENT_PROBES = r"""
import numpy, sklearn.linear_model

def student():
    if sys.argv[1:2] == ["filtered"]:
        install_filter(bytes.fromhex(sys.argv[2]))
    # Over /dev/shm: a mount made unfiltered stays in this mount namespace.
    mount = lambda: call(165, b"none", b"/dev/shm", b"tmpfs", 0, 0)

    def clone_newns():
        flags = ctypes.c_long(CLONE_NEWNS | signal.SIGCHLD)
        pid = libc.syscall(ctypes.c_long(56), flags, 0, 0, 0, 0)
        if pid == 0:
            os._exit(0)
        return errno.errorcode[ctypes.get_errno()] if pid == -1 else "ok"

    def setns_own_pid_namespace():
        # What the fold init does between folds; this process has CAP_SYS_ADMIN in the user
        # namespace that owns its PID namespace, so only a filter stops it.
        return call(308, os.open("/proc/self/ns/pid", os.O_RDONLY), CLONE_NEWPID)

    outcomes = {
        "mount": in_child(mount),
        "setns": in_child(setns_own_pid_namespace),
        "unshare": in_child(lambda: call(272, CLONE_NEWUSER)),
        "clone with CLONE_NEWNS": in_child(clone_newns),
        "clone3": call(435, 0, 0),
        "chroot": in_child(lambda: call(161, b"/")),
        "fsopen": call(430, b"tmpfs", 0),
    }
    outcomes.update(estimators_and_processes())
    print(json.dumps(outcomes), flush=True)

def job():
    unshared = call(272, CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWPID)
    assert unshared == "ok", unshared
    # Root of its namespace, mapped to nobody: its processes may then make namespaces of their own.
    for name, line in (("setgroups", "deny"), ("uid_map", "0 65534 1"), ("gid_map", "0 65534 1")):
        with open(f"/proc/self/{name}", "w") as mapping:
            mapping.write(line)
    # As the runner mounts a job's scratch space (not on /tmp here: a virtualenv
    # below /tmp would be hidden, which the runner binds back and this does not).
    for target in (b"/dev/shm",):
        mounted = call(165, b"none", target, b"tmpfs", 0, 0)
        assert mounted == "ok", mounted
    pid = os.fork()
    if pid == 0:
        try:
            student()
            os._exit(0)
        except BaseException:  # a fork must not return into its parent's code
            traceback.print_exc()
            sys.stderr.flush()
            os._exit(1)
    os._exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))

pid = os.fork()
if pid == 0:
    job()
sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
"""


def bwrap_command(seccomp_fd: int | None, script: str, *args: str) -> list[str]:
    """bubblewrap as the judge starts it (as root, no user namespace), then setpriv to nobody."""
    command = ["/usr/bin/bwrap", "--die-with-parent", "--unshare-ipc", "--unshare-pid"]
    command += ["--unshare-net", "--unshare-uts", "--unshare-cgroup"]
    # As the judge does: /tmp first, so a virtualenv below /tmp is bound on top of it.
    command += ["--perms", "1777", "--tmpfs", "/tmp", *read_only_system()]
    command += ["--proc", "/proc", "--dev", "/dev"]
    if seccomp_fd is not None:
        command += ["--seccomp", str(seccomp_fd)]
    command += ["/usr/bin/setpriv", "--reuid", NOBODY, "--regid", NOBODY, "--clear-groups"]
    command += ["--bounding-set", "-all", "--inh-caps", "-all"]
    return [*command, sys.executable, "-I", "-c", script, *args]


def run_sandboxed(bpf: bytes | None, script: str, *args: str) -> dict[str, Any]:
    with tempfile.TemporaryFile() as program:
        program.write(bpf or b"")
        program.seek(0)
        seccomp_fd = program.fileno() if bpf is not None else None
        done = subprocess.run(
            bwrap_command(seccomp_fd, script, *args),
            pass_fds=(program.fileno(),),
            env=SANDBOX_ENV,
            capture_output=True,
            text=True,
            timeout=120 * patience(),
            check=False,
        )
    assert done.returncode == 0, done.stderr
    outcomes: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return outcomes


@pytest.fixture(scope="module")
def sandboxed() -> dict[str, Any]:
    return run_sandboxed(sandbox_filter_bpf(), PRELUDE + SANDBOX_PROBES, "estimators")


@pytest.fixture(scope="module")
def unfiltered() -> dict[str, Any]:
    return run_sandboxed(None, PRELUDE + SANDBOX_PROBES)


@pytest.mark.parametrize(
    "probe",
    [
        "ptrace_traceme",
        "ptrace_attach",
        "process_vm_readv",
        "keyctl",
        "bpf",
        "perf_event_open",
        "userfaultfd",
        "io_uring_setup",
        "modify_ldt",
        "name_to_handle_at",
        "vsock",
        "vsock, high bits set",
        "tiocsti",
        "personality ADDR_NO_RANDOMIZE",
        "personality ADDR_NO_RANDOMIZE, high bits set",
    ],
)
def test_sandbox_filter_denies(
    probe: str, sandboxed: dict[str, Any], unfiltered: dict[str, Any]
) -> None:
    assert unfiltered[probe] != "EPERM", "the probe must reach the kernel to prove anything"
    assert sandboxed[probe] == "EPERM"


@pytest.mark.parametrize(
    "probe", ["personality PER_LINUX", "personality query", "unshare user and mount", "setns"]
)
def test_sandbox_filter_allows_what_the_runner_and_libraries_use(
    probe: str, sandboxed: dict[str, Any]
) -> None:
    assert sandboxed[probe] == "ok"


def test_an_i386_syscall_kills_the_process(
    sandboxed: dict[str, Any], unfiltered: dict[str, Any]
) -> None:
    # Through int 0x80 the kernel reads the i386 table, where none of the x86_64 rules apply.
    assert unfiltered["i386 int 0x80"] == "ok"
    assert sandboxed["i386 int 0x80"] == "SIGSYS"


def test_estimators_fork_threads_and_subprocesses_work_in_the_sandbox(
    sandboxed: dict[str, Any],
) -> None:
    assert sandboxed == sandboxed | {"fit": True, "fork": True, "thread": True, "subprocess": True}


@pytest.fixture(scope="module")
def student() -> dict[str, Any]:
    script = PRELUDE + inspect.getsource(install_filter) + STUDENT_PROBES
    return run_sandboxed(sandbox_filter_bpf(), script, "filtered", student_filter_bpf().hex())


@pytest.fixture(scope="module")
def student_unfiltered() -> dict[str, Any]:
    return run_sandboxed(sandbox_filter_bpf(), PRELUDE + STUDENT_PROBES, "unfiltered")


@pytest.mark.parametrize(
    "probe", ["mount", "unshare", "setns", "clone with CLONE_NEWNS", "chroot", "fsopen"]
)
def test_student_filter_denies_namespaces_and_mounts(
    probe: str, student: dict[str, Any], student_unfiltered: dict[str, Any]
) -> None:
    assert student_unfiltered[probe] == "ok", "the probe must reach the kernel to prove anything"
    assert student[probe] == "EPERM"


def test_student_filter_answers_clone3_with_enosys(
    student: dict[str, Any], student_unfiltered: dict[str, Any]
) -> None:
    assert student_unfiltered["clone3"] == "EINVAL"  # a null argument, seen by the kernel
    assert student["clone3"] == "ENOSYS"


def test_estimators_fork_threads_and_subprocesses_work_for_the_student(
    student: dict[str, Any],
) -> None:
    # glibc starts threads and subprocesses with clone3 first, then falls back to clone.
    assert student == student | {"fit": True, "fork": True, "thread": True, "subprocess": True}


def test_install_filter_refuses_a_program_that_is_not_whole_instructions() -> None:
    with pytest.raises(ValueError, match="8 bytes"):
        install_filter(sandbox_filter_bpf()[:-3])
