"""How a job's folds confine the student's code, INSIDE the sandbox: a user namespace
for the job (its supervisor), a fresh PID namespace for each fold (the job's fold
init), then in the fold's student process new mount and IPC namespaces, a private
view of the files, no power over those mounts, rlimits and the student-stage
seccomp filter. Part of the sandbox's runner (sandbox_runner.py): it imports
nothing of ppipe.
"""

from __future__ import annotations

import ctypes
import os
import resource
from typing import Any

from worker_wing.judge.runner_files import FOLD_VIEW, HOLD, PLACES

PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38
CLONE_NEWNS, CLONE_NEWIPC = 0x00020000, 0x08000000
CLONE_NEWUSER, CLONE_NEWPID = 0x10000000, 0x20000000
MS_RDONLY, MS_NOSUID, MS_NODEV = 0x1, 0x2, 0x4
MS_BIND, MS_REC, MS_PRIVATE = 0x1000, 0x4000, 1 << 18
MNT_DETACH = 2
PAGE = os.sysconf("SC_PAGE_SIZE")


_libc = ctypes.CDLL(None, use_errno=True)


def prctl(option: int, value: int) -> None:
    _libc.prctl(option, value, 0, 0, 0)


def _check(result: int, what: str) -> None:
    if result != 0:
        raise OSError(ctypes.get_errno(), f"{what}: {os.strerror(ctypes.get_errno())}")


def _mount(source: str, target: str, flags: int, kind: str = "", options: str = "") -> None:
    result = _libc.mount(
        source.encode(), target.encode(), kind.encode() or None, flags, options.encode() or None
    )
    _check(result, f"mount {target}")


def install_filter(bpf: bytes) -> None:
    """Load a seccomp program the worker compiled with libseccomp
    (worker_wing/judge/seccomp_policy.py) into the calling thread and its future children,
    for good: this writes no BPF, it only hands the program to the kernel.

    It imports only the standard library, inside itself, so the seccomp tests can
    run its source alone in a sandbox. Call it right after fork(), before any
    thread starts: prctl() filters the calling thread only, and threads started
    later inherit the filter, so it refuses to run with other threads about.
    """
    import ctypes
    import os

    pr_set_seccomp, pr_set_no_new_privs, seccomp_mode_filter = 22, 38, 2
    if not bpf or len(bpf) % 8 or len(bpf) // 8 > 4096:
        raise ValueError("a BPF program is 1 to 4096 instructions of 8 bytes each")
    if len(os.listdir("/proc/self/task")) != 1:
        raise RuntimeError("other threads would run unfiltered: install before starting any")

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    program = ctypes.create_string_buffer(bpf, len(bpf))
    fprog = SockFprog(len(bpf) // 8, ctypes.addressof(program))
    libc = ctypes.CDLL(None, use_errno=True)
    zero = ctypes.c_ulong(0)
    # The kernel takes a filter from an unprivileged process only under no_new_privs, so that
    # no setuid program can be started with syscalls it relies on failing.
    if libc.prctl(pr_set_no_new_privs, ctypes.c_ulong(1), zero, zero, zero) != 0:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))
    mode = ctypes.c_ulong(seccomp_mode_filter)
    if libc.prctl(pr_set_seccomp, mode, ctypes.byref(fprog), zero, zero) != 0:
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()))


def map_own_ids(uid: int, gid: int) -> None:
    """In a new user namespace: map this process's own uid and gid to themselves, and
    nothing else."""
    # A non-dumpable process's /proc/self files belong to root: dumpable only while
    # it writes its own maps, never while student code runs (it could then write
    # this process's memory through /proc and make it lift the mounts it made).
    prctl(PR_SET_DUMPABLE, 1)
    try:
        for name, value in (("setgroups", "deny"), ("uid_map", f"{uid} {uid} 1")):
            with open(f"/proc/self/{name}", "w") as handle:
                handle.write(value)
        with open("/proc/self/gid_map", "w") as handle:
            handle.write(f"{gid} {gid} 1")
    finally:
        prctl(PR_SET_DUMPABLE, 0)


def enter_job_user_namespace() -> None:
    """In the job's supervisor, once per job, before it starts a thread (the kernel
    refuses a new user namespace to a process with threads): a user namespace whose
    root, the job's runner, builds each fold's PID namespace and view of the files.
    No code of the student's exists in the job yet."""
    uid, gid = os.getuid(), os.getgid()
    _check(_libc.unshare(CLONE_NEWUSER), "unshare user")
    map_own_ids(uid, gid)


def enter_job_pid_namespace() -> None:
    """In the job's supervisor, after its last thread (the kernel refuses it new
    threads from then on): its next child, the job's fold init, is PID 1 of a PID
    namespace owned by the job's user namespace, in which the fold init may then
    make, and leave, a fresh PID namespace for each fold (new_fold_pid_namespace)."""
    _check(_libc.unshare(CLONE_NEWPID), "unshare pid")


def new_fold_pid_namespace() -> None:
    """In the fold init: its next child is PID 1 of a new PID namespace."""
    _check(_libc.unshare(CLONE_NEWPID), "unshare pid")


def leave_fold_pid_namespace(own: int) -> None:
    """In the fold init, once the fold's student has ended: its children are again
    born in its own PID namespace (`own`, an fd of /proc/self/ns/pid opened before
    the first fold), so that the next unshare(CLONE_NEWPID) is not refused. The
    sandbox filter allows setns for this; the student's denies it."""
    _check(_libc.setns(own, CLONE_NEWPID), "setns pid")


def private_view(tmpfs_mb: int, fold: int) -> None:
    """In the fold's student process, PID 1 of the fold's PID namespace, before any
    code of the student's: new mount and IPC namespaces, a /tmp and /dev/shm of its
    own that die with the fold, and a /job/input where only this fold's training
    labels are readable (at FOLD_VIEW)."""
    _check(_libc.unshare(CLONE_NEWNS | CLONE_NEWIPC), "unshare")
    _mount("none", "/", MS_REC | MS_PRIVATE)
    if PLACES.kept:  # held aside, or the job's own /tmp would hide them
        _mount("/tmp", HOLD, MS_BIND | MS_REC)  # noqa: S108
    for path in ("/tmp", "/dev/shm"):  # noqa: S108
        _mount("tmpfs", path, MS_NOSUID | MS_NODEV, "tmpfs", f"size={tmpfs_mb}m,mode=0700")
    if PLACES.kept:
        for path in PLACES.kept:
            os.makedirs(path, exist_ok=True)
            # A bind keeps the read-only flag bubblewrap locked on the original.
            _mount(HOLD + path.removeprefix("/tmp"), path, MS_BIND | MS_REC)  # noqa: S108
        # The sandbox's /tmp, shared by its jobs, must not stay reachable.
        _check(_libc.umount2(HOLD.encode(), MNT_DETACH), "detach the held /tmp")
    _mount(f"{PLACES.input}/folds/{fold}", FOLD_VIEW, MS_BIND)
    # Every fold's labels under an empty read-only tmpfs: the other folds' labels
    # (this fold's validation labels among them) are gone from this view.
    _mount("tmpfs", f"{PLACES.input}/folds", MS_RDONLY | MS_NOSUID | MS_NODEV, "tmpfs", "size=4k")


def drop_mount_power() -> None:
    """In PID 1 of the fold's namespace, after its private view: a user namespace
    inside the job's, full of nothing, owns no mount, so the student cannot reveal
    what is under them."""
    _check(_libc.unshare(CLONE_NEWUSER), "unshare user")
    os.chdir("/tmp")  # noqa: S108


# glibc's mallopt parameters, and the values its dynamic thresholds end at in a
# long-lived process on 64-bit Linux (DEFAULT_MMAP_THRESHOLD_MAX, twice that).
M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
WARM_MMAP_THRESHOLD = 32 * 2**20
WARM_TRIM_THRESHOLD = 2 * WARM_MMAP_THRESHOLD


def keep_freed_heap() -> bool:
    """In the fold's student, before its code runs: glibc's heap as a long-lived
    Python's is after its first large frees, so that a fold in a fresh process pays
    no page faults a warm `cross_validate` does not.

    glibc serves a block above its mmap threshold (128 kB at start) with a fresh
    mmap, faulted in page by page and unmapped on free, and trims the heap's top
    above its trim threshold; each free of such a block raises both, up to 32 and
    64 MB. A long-lived process is there after its first fit; a fold's fresh
    process starts at 128 kB, so a solver's temporary arrays (a few MB each, every
    iteration) are faulted in again and again: 28,700 page faults for one fold's
    fit of the ~10 s workload, against 9,300 with these thresholds and 3,000-6,000
    in the warm process (bench/README.md, issue 22). The memory freed and kept is
    the student's own, charged to the job's cgroup and within its limits as before.
    False where the C library has no mallopt (not glibc)."""
    mallopt = getattr(_libc, "mallopt", None)
    if mallopt is None:
        return False
    return bool(
        mallopt(M_MMAP_THRESHOLD, WARM_MMAP_THRESHOLD)
        and mallopt(M_TRIM_THRESHOLD, WARM_TRIM_THRESHOLD)
    )


def limit_resources(spec: dict[str, Any]) -> None:
    """Per-process limits, a first line: the cgroup the worker watches bounds the
    whole job's CPU, memory and processes however many processes it starts."""
    limits = spec["limits"]
    cpu = int(limits["cpu_seconds"])
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    # This process already maps the libraries the zygote imported: the memory limit
    # comes on top of that.
    with open("/proc/self/statm") as statm:
        mapped = int(statm.read().split()[0]) * PAGE
    address_space = mapped + int(limits["memory_mb"]) * 2**20
    resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
    # No RLIMIT_NPROC: it counts every process of the sandbox user on the host, all
    # sandboxes together; the cgroup's pids.max bounds this job's alone.
    file_bytes = int(limits["file_mb"]) * 2**20
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_bytes, file_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
