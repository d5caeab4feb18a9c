"""Reclaiming what dead judge processes left behind: their nurseries' folders in the
work root and their sandboxes' cgroups (under the cgroup root's ppipe-sandboxes/).

A judge process killed with SIGKILL, or a machine that crashed, never discards its
nursery: its folder stays in the work root and its cgroups stay in the kernel, some
still holding a box whose processes survived. Several judge processes share one
machine (a worker's pool, other workers, a test running beside them), so a leftover
is reclaimed only when its owner is known to be gone: each nursery's folder, and so
every cgroup named after it, carries its owner's identity (pid, the start time of that
pid's process, the boot and the PID namespace), and a pid the kernel gave to another
process since does not pass for the owner.

Folders and cgroups named before owners were (`ppipe-judge-` and mkdtemp's eight
characters) are reclaimed only when nothing runs in them and nothing changed in them
for a day: their owner cannot be told, and a live worker's nursery holds a process.
Standard library only: it runs on remote workers.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from worker_wing.judge.job_cgroup import CgroupUnavailable, SandboxCgroup, sandbox_cgroup_names

logger = logging.getLogger(__name__)

PREFIX = "ppipe-judge-"
# What an owner-less leftover must have been left alone for before it is reclaimed.
OLD_AGE_SECONDS = 86_400.0
# How long the processes of a dead owner's cgroup may take to die (SandboxCgroup.kill).
KILL_SECONDS = 10.0
_MKDTEMP = r"[a-z0-9_]{8}"
_OWNER = r"(?P<owner>\d+\.\d+\.[0-9a-f]{8}\.\d+)"
# A nursery's folder, its private sibling; its cgroup and its boxes' (sandbox.py).
_FOLDER_REST = r"(\.private)?"
_CGROUP_REST = r"(-box.*)?"
_OWNED_FOLDER = re.compile(f"{PREFIX}{_OWNER}-{_MKDTEMP}{_FOLDER_REST}")
_OWNED_CGROUP = re.compile(f"{PREFIX}{_OWNER}-{_MKDTEMP}{_CGROUP_REST}")
_OLD_FOLDER = re.compile(f"{PREFIX}{_MKDTEMP}{_FOLDER_REST}")
_OLD_CGROUP = re.compile(f"{PREFIX}{_MKDTEMP}{_CGROUP_REST}")

# What this process could not reclaim: logged once, and not tried again by it (a process
# stuck in the kernel would cost KILL_SECONDS at every nursery start).
_unreclaimable: set[str] = set()


@dataclass(frozen=True)
class Owner:
    """A process, told apart from any later one given the same pid."""

    pid: int
    # Clock ticks after boot (/proc/<pid>/stat's 22nd field).
    started: int
    # The first 8 hex digits of the kernel's boot id: a pid of an earlier boot is dead.
    boot: str
    # The inode of its PID namespace: a pid of another namespace is not ours to look up.
    pid_namespace: int

    @property
    def tag(self) -> str:
        return f"{self.pid}.{self.started}.{self.boot}.{self.pid_namespace}"

    @classmethod
    def from_tag(cls, tag: str) -> Owner:
        pid, started, boot, namespace = tag.split(".")
        return cls(int(pid), int(started), boot, int(namespace))


def _boot() -> str:
    return Path("/proc/sys/kernel/random/boot_id").read_text().replace("-", "")[:8]


def _pid_namespace() -> int:
    return os.stat("/proc/self/ns/pid").st_ino


def _start_ticks(pid: int) -> int | None:
    """When the process `pid` started, or None if there is none or it is a zombie (it
    runs nothing any more, and its parent may take its time to reap it)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces and parentheses: count after its end.
    fields = stat[stat.rindex(")") + 2 :].split()
    if fields[0] in ("Z", "X"):
        return None
    return int(fields[19])


def process_owner(pid: int) -> Owner | None:
    """The running process `pid` as an owner, or None if it is gone."""
    started = _start_ticks(pid)
    return None if started is None else Owner(pid, started, _boot(), _pid_namespace())


def nursery_prefix() -> str:
    """The start of the name of a nursery's folder made by this process."""
    owner = process_owner(os.getpid())
    assert owner is not None  # this process runs
    return f"{PREFIX}{owner.tag}-"


def owner_gone(owner: Owner) -> bool:
    """True only when the owner is known to have ended."""
    if owner.boot != _boot():
        return True
    if owner.pid_namespace != _pid_namespace():
        return False
    return _start_ticks(owner.pid) != owner.started


@dataclass
class Reclaimed:
    cgroups: int = 0
    # Of those, the ones that still held processes (killed first).
    killed: int = 0
    folders: int = 0
    bytes: int = 0

    def summary(self) -> str:
        return (
            f"reclaimed the leftovers of dead judge processes: {self.cgroups} cgroups "
            f"({self.killed} still holding processes, killed), {self.folders} folders "
            f"({self.bytes / 2**20:.1f} MB)"
        )


def _report_once(what: str, why: str) -> None:
    if what not in _unreclaimable:
        _unreclaimable.add(what)
        logger.warning("%s of a dead judge process left in place: %s", what, why)


def _old_and_idle(cgroup: SandboxCgroup, now: float) -> bool:
    return not cgroup.pids() and now - cgroup.changed_at() > OLD_AGE_SECONDS


def _reclaim_cgroups(root: str, now: float, reclaimed: Reclaimed) -> set[str]:
    """Kill and remove the dead owners' sandbox cgroups; the names of those still there."""
    try:
        names = sandbox_cgroup_names(root)
    except (CgroupUnavailable, OSError):
        return set()  # no sandbox cgroups here (the nursery's start will say why)
    left = set(names)
    for name in sorted(names):
        if f"cgroup {name}" in _unreclaimable:
            continue
        try:
            cgroup = SandboxCgroup.existing(name, root)
            if owned := _OWNED_CGROUP.fullmatch(name):
                if not owner_gone(Owner.from_tag(owned["owner"])):
                    continue
            elif not (_OLD_CGROUP.fullmatch(name) and _old_and_idle(cgroup, now)):
                continue
            held = bool(cgroup.pids())
            cgroup.remove(KILL_SECONDS)
        except (OSError, TimeoutError, CgroupUnavailable) as error:
            _report_once(f"cgroup {name}", str(error))
            continue
        left.discard(name)
        reclaimed.cgroups += 1
        reclaimed.killed += held
    return left


def _newest_change(path: str) -> float:
    newest = os.lstat(path).st_mtime
    for folder, _, files in os.walk(path):
        for entry in (folder, *(os.path.join(folder, name) for name in files)):
            with contextlib.suppress(FileNotFoundError):
                newest = max(newest, os.lstat(entry).st_mtime)
    return newest


def _tree_bytes(path: str) -> int:
    total = 0
    for folder, _, files in os.walk(path):
        for name in files:
            with contextlib.suppress(FileNotFoundError):
                total += os.lstat(os.path.join(folder, name)).st_size
    return total


def _folder_reclaimable(name: str, path: str, cgroups_left: set[str], now: float) -> bool:
    if owned := _OWNED_FOLDER.fullmatch(name):
        return owner_gone(Owner.from_tag(owned["owner"]))
    if not _OLD_FOLDER.fullmatch(name):
        return False
    # An owner-less nursery whose cgroups are still there holds processes, or is young.
    nursery = name.removesuffix(".private")
    if any(left == nursery or left.startswith(f"{nursery}-") for left in cgroups_left):
        return False
    return now - _newest_change(path) > OLD_AGE_SECONDS


def _reclaim_folders(
    work_root: str, cgroups_left: set[str], now: float, reclaimed: Reclaimed
) -> None:
    try:
        entries = [entry for entry in os.scandir(work_root) if entry.name.startswith(PREFIX)]
    except OSError:
        return
    for entry in entries:
        what = f"folder {entry.path}"
        if what in _unreclaimable or not entry.is_dir(follow_symlinks=False):
            continue
        try:
            if not _folder_reclaimable(entry.name, entry.path, cgroups_left, now):
                continue
            size = _tree_bytes(entry.path)
            shutil.rmtree(entry.path)
        except FileNotFoundError:
            continue  # reclaimed meanwhile by another judge process
        except OSError as error:
            _report_once(what, str(error))
            continue
        reclaimed.folders += 1
        reclaimed.bytes += size


def reclaim_leftovers(work_root: str, cgroup_root: str = "") -> Reclaimed:
    """Remove the nursery folders in `work_root` and the sandbox cgroups below `cgroup_root`
    (SandboxConfig's) that judge processes now gone left; never a live one's. What cannot
    be removed is left and logged once; nothing raises."""
    reclaimed = Reclaimed()
    now = time.time()
    cgroups_left = _reclaim_cgroups(cgroup_root, now, reclaimed)
    _reclaim_folders(work_root, cgroups_left, now, reclaimed)
    if reclaimed.cgroups or reclaimed.folders:
        logger.info(reclaimed.summary())
    return reclaimed
