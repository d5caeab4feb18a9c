"""How a participant's box confines itself, INSIDE the nursery's sandbox, once the
worker has moved it into its own cgroup and before it takes any job. Part of the
sandbox's runner (sandbox_runner.py): it imports nothing of ppipe.

A box is a fork of the nursery (runner_nursery.py), so it starts in the nursery's
namespaces, which every other box shares. It leaves them: new user, mount, IPC,
network, UTS, cgroup and PID namespaces, with its own uid mapped to itself and
nothing else. Its second process is PID 1 of the new PID namespace (the box's
zygote) and mounts a /proc of its own: another box's processes are not in it.
It then gives itself a fresh size-capped /tmp and /dev/shm, its own inputs at
/job/input (its sub-folder of /job/boxes, read-only as bubblewrap bound it), and
an empty read-only tmpfs over /job/boxes, so that no other box's inputs are
reachable. Last, it clears every capability it held in its user namespace: from
then on it can no more lift those mounts than today's zygote could, and a process
that makes a user namespace of its own finds every one of them locked.
"""

from __future__ import annotations

import ctypes
import fcntl
import os
import signal
import socket
import struct

from worker_wing.judge.runner_confinement import (
    CLONE_NEWIPC,
    CLONE_NEWNS,
    CLONE_NEWPID,
    CLONE_NEWUSER,
    MNT_DETACH,
    MS_BIND,
    MS_NODEV,
    MS_NOSUID,
    MS_PRIVATE,
    MS_RDONLY,
    MS_REC,
    _check,
    _libc,
    _mount,
    map_own_ids,
    prctl,
)
from worker_wing.judge.runner_files import HOLD

CLONE_NEWCGROUP, CLONE_NEWUTS, CLONE_NEWNET = 0x02000000, 0x04000000, 0x40000000
MS_NOEXEC, MS_REMOUNT = 0x8, 0x20
PR_SET_PDEATHSIG = 1
# Where the nursery's bubblewrap binds the host's folder of box sub-folders, and
# where a box sees its own.
BOXES = "/job/boxes"
BOX_INPUT = "/job/input"
# What bubblewrap covers read-only in the /proc it mounts, covered again in the box's.
PROC_COVERED = ("sys", "sysrq-trigger", "irq", "bus")
_SIOCGIFFLAGS, _SIOCSIFFLAGS, _IFF_UP = 0x8913, 0x8914, 0x1
_CAPABILITY_VERSION_3 = 0x20080522


def die_with_parent() -> None:
    """SIGKILL this process when the one that forked it ends (a box's first process
    with the nursery, its zygote with its first process)."""
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def box_namespaces() -> None:
    """In the box's first process: the box's namespaces. Returns in its second
    process, PID 1 of the new PID namespace; the first waits for it and ends with it."""
    uid, gid = os.getuid(), os.getgid()
    flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWNET | CLONE_NEWUTS
    _check(_libc.unshare(flags | CLONE_NEWPID | CLONE_NEWCGROUP), "unshare")
    map_own_ids(uid, gid)
    _mount("none", "/", MS_REC | MS_PRIVATE)
    zygote = os.fork()
    if zygote == 0:
        die_with_parent()
        return
    # The first process holds nothing of the box's: no pipe, no power.
    drop_capabilities()
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    _, status = os.waitpid(zygote, 0)
    os._exit(os.waitstatus_to_exitcode(status) & 0xFF)


def _cover_read_only(path: str) -> None:
    _mount(path, path, MS_BIND)
    _mount("none", path, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)


def box_view(name: str, tmpfs_mb: int, kept: list[str]) -> None:
    """In the box's PID 1: its own /proc, /tmp, /dev/shm and /job/input, and no way to
    the other boxes' inputs; then no capability left."""
    _mount("proc", "/proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "proc")
    for entry in PROC_COVERED:
        if os.path.exists(f"/proc/{entry}"):
            _cover_read_only(f"/proc/{entry}")
    if kept:  # held aside, or the box's own /tmp would hide them (a virtualenv there)
        _mount("/tmp", HOLD, MS_BIND | MS_REC)  # noqa: S108
    size = f"size={tmpfs_mb}m,mode=1777"
    _mount("tmpfs", "/tmp", MS_NOSUID | MS_NODEV, "tmpfs", size)  # noqa: S108
    if kept:
        for path in kept:
            os.makedirs(path, exist_ok=True)
            # A bind keeps the read-only flag bubblewrap locked on the original.
            _mount(HOLD + path.removeprefix("/tmp"), path, MS_BIND | MS_REC)  # noqa: S108
        _check(_libc.umount2(HOLD.encode(), MNT_DETACH), "detach the nursery's /tmp")
    _mount("tmpfs", "/dev/shm", MS_NOSUID | MS_NODEV, "tmpfs", size)  # noqa: S108
    # Read-only: bubblewrap bound /job/boxes so, and a bind keeps the flag it locked.
    _mount(f"{BOXES}/{name}", BOX_INPUT, MS_BIND)
    _mount("tmpfs", BOXES, MS_RDONLY | MS_NOSUID | MS_NODEV, "tmpfs", "size=4k,mode=0555")
    _loopback_up()
    drop_capabilities()


def _loopback_up() -> None:
    """A new network namespace's loopback is down; bubblewrap's sandbox had it up."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        request = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack_from("16sH", fcntl.ioctl(probe, _SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(probe, _SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", flags | _IFF_UP))


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [
        ("effective", ctypes.c_uint32),
        ("permitted", ctypes.c_uint32),
        ("inheritable", ctypes.c_uint32),
    ]


def drop_capabilities() -> None:
    """Clear every capability set of this process (those a new user namespace gave it)."""
    header = _CapHeader(_CAPABILITY_VERSION_3, 0)
    empty = (_CapData * 2)()
    _check(_libc.capset(ctypes.byref(header), empty), "capset")
