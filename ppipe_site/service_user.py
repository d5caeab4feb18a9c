"""The unprivileged user `make run` starts its services as when it runs as root.

Root is what class VMs and these machines give, and students' input reaches the
web server (uploaded archives), the control worker (results it unpacks and
scores) and the probe worker (answers of students' endpoints): none of them
needs root, so none keeps it. Two processes do: the judge worker (bubblewrap
without a user namespace, cgroups, then the student as ppipe-sandbox) and the
release worker (the `jobs` process: rclone for teachers' hosts as ppipe-release,
its staged files handed to that user). Switching user is the one thing the
release worker needs root for, and it stays root for it: run as the service
user, its rclone, which talks to a host a teacher chose, would run as the owner
of var (the database, the secrets, the hidden labels), and only CAP_SETUID,
root by another name, would let it switch.

The services must reach the code, the virtualenv and the Python it links to: a
folder on the way that the service user may not enter (a pyenv Python below
root's 0700 home) gets an ACL entry that lets that one user enter it, and only
enter it (`let_enter`).

The var folder is where the two sides meet: the judge writes artifacts that the
control worker reads, the control side writes inputs the judge reads, the release
worker writes the local releases the demo model reads. So var and every folder
in it belong to the service user's group with the setgid bit (what is created
inside keeps that group), and every process of the platform runs with umask 002
(what it creates stays writable for the group); files the launcher created as
root (secrets, the database, an earlier run's data) are handed to the service
user at each start. Root's folders stay root's, and var has the sticky bit: the
service user cannot swap the stores root writes in for links. Below them the
judge, root, writes in folders the service user may write too: its store never
follows a link there (worker_wing/content_store.py).
"""

from __future__ import annotations

import os
import pwd
import shutil
import stat
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ppipe_site.system_packages import SERVICE_USER, ensure_user

# Every process of the platform, root's included: other users get no write access,
# the service user's group does (the shared folders are the group's).
SHARED_UMASK = 0o002
# Set on every folder of var: the group may write, and what is created inside
# belongs to the group.
SHARED_DIR_BITS = stat.S_ISGID | stat.S_IRWXG


@dataclass(frozen=True)
class ServiceAccount:
    name: str
    uid: int
    gid: int
    # HOME for its processes: the one useradd gives it (/nonexistent) cannot be
    # written, and root's is not theirs.
    home: Path


def service_account(var_dir: Path) -> ServiceAccount | None:
    """The account to run the services as: None unless this process is root."""
    if os.geteuid() != 0:
        return None
    ensure_user(SERVICE_USER, "the platform's services when `make run` starts as root")
    try:
        entry = pwd.getpwnam(SERVICE_USER)
    except KeyError:
        raise SystemExit(
            f"`make run` as root starts its services as the user {SERVICE_USER}, "
            "which could not be created: create it (see above) and start again."
        ) from None
    return ServiceAccount(
        name=SERVICE_USER, uid=entry.pw_uid, gid=entry.pw_gid, home=var_dir / "home"
    )


def blocked_folders(account: ServiceAccount, paths: list[Path]) -> list[Path]:
    """The first folder on the way to each of `paths` (the paths included) that the
    account may not enter, asked of the system as the account itself (ACLs count)."""
    folders: list[Path] = []
    for path in paths:
        for folder in [*reversed(path.parents), path]:
            if folder not in folders:
                folders.append(folder)
    # A shell, not this Python: the interpreter may well be one of the blocked paths.
    found = subprocess.run(
        ["/bin/sh", "-c", 'for folder; do [ -x "$folder" ] || echo "$folder"; done', "-"]
        + [str(folder) for folder in folders],
        capture_output=True,
        text=True,
        check=True,
        user=account.uid,
        group=account.gid,
        extra_groups=[],
    )
    closed = [Path(line) for line in found.stdout.splitlines()]
    # Below a closed folder everything looks closed: the first one on each way only.
    return [folder for folder in closed if not any(p in closed for p in folder.parents)]


def let_enter(account: ServiceAccount, paths: list[Path]) -> None:
    """Let the account enter the folders on the way to `paths`, and only enter them
    (search, not list): a Python installed below root's home (pyenv), or code and
    var there, are otherwise out of its reach. An ACL entry for that one user, so
    no other user gains anything; stop with what to do where none can be set."""
    setfacl = shutil.which("setfacl")
    # Outermost first: a folder below one just opened may be closed as well.
    opened: set[Path] = set()
    while blocked := blocked_folders(account, paths):
        if opened.intersection(blocked):  # an ACL the system does not honour
            raise SystemExit(
                f"The user {account.name} still may not enter {', '.join(map(str, blocked))} "
                "after an ACL let it: move the code, the virtualenv or PPIPE_VAR_DIR elsewhere."
            )
        _open_to(account, blocked, setfacl)
        opened.update(blocked)


def _open_to(account: ServiceAccount, blocked: list[Path], setfacl: str | None) -> None:
    for folder in blocked:
        command = ["setfacl", "-m", f"u:{account.name}:x", str(folder)]
        if setfacl is None:
            raise SystemExit(
                f"The user {account.name}, which runs the platform's services when "
                f"`make run` starts as root, may not enter {folder}, where they need to "
                f"read. Install acl (apt-get install acl) and start again to let it "
                f"enter that folder alone, or run `{' '.join(command)}` (or chmod o+x "
                f"{folder}), or move the code, the virtualenv or PPIPE_VAR_DIR elsewhere."
            )
        print(f"Letting the user {account.name} enter {folder} (search only): {' '.join(command)}")
        subprocess.run([setfacl, *command[1:]], check=True)


def service_paths(data: list[Path]) -> list[Path]:
    """What the services must reach: the code, the virtualenv, the interpreter it
    links to and its standard library, and the folders holding their data
    (`data`: each is handed over, its parent must be enterable)."""
    return [
        Path(__file__).resolve().parent.parent,
        Path(sys.prefix),
        Path(sys.executable).resolve().parent,
        Path(sys.base_prefix).resolve(),
        *(folder.resolve().parent for folder in data),
    ]


def share_var_dir(
    var_dir: Path, account: ServiceAccount, *, database: Path | None, stores: Sequence[Path] = ()
) -> None:
    """Share var and the stores (artifacts, media, …, in var or not) with the
    services (see the module's docstring), idempotently.

    Folders stay root's when they are, their group the service user's; root's files
    become the service user's. Only root's own files change owner: the service user
    cannot make a file root's, so one it planted (a symbolic link, a hard link to
    /etc/shadow) is never handed over. Links are not followed, and a file with
    several names is left alone."""
    var_dir.mkdir(parents=True, exist_ok=True)
    account.home.mkdir(exist_ok=True)
    if database is not None and not database.exists():
        # Created now, as the account's: SQLite gives the write-ahead log and
        # shared-memory files that root creates the database file's owner.
        database.touch()
    # Created here, as root's: the stores root writes in (the judge's artifacts,
    # the release worker's local releases) are never a folder of the service
    # user's, which it could replace with a link.
    for store in stores:
        store.mkdir(parents=True, exist_ok=True)
    outside = [store for store in stores if not store.resolve().is_relative_to(var_dir.resolve())]
    for top in [var_dir, *outside]:
        # fwalk enters no linked folder, and holds each folder by its descriptor.
        for path, _, files, folder_fd in os.fwalk(top, follow_symlinks=False):
            # Var's own entries (root's folders above all) may be renamed or removed
            # by their owner alone: its sticky bit.
            _share_folder(folder_fd, account, stat.S_ISVTX if path == str(var_dir) else 0)
            for name in files:
                _share_file(name, folder_fd, account)


def _share_file(name: str, folder_fd: int, account: ServiceAccount) -> None:
    if not stat.S_ISREG(os.stat(name, dir_fd=folder_fd, follow_symlinks=False).st_mode):
        return  # a link, a socket, a pipe: never opened
    try:
        # Checked and changed through one descriptor: a name swapped meanwhile for a
        # link is refused by O_NOFOLLOW, or seen in what fstat says.
        fd = os.open(
            name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=folder_fd
        )
    except OSError:
        return
    try:
        info = os.fstat(fd)
        if stat.S_ISREG(info.st_mode) and info.st_uid == 0 and info.st_nlink == 1:
            os.fchown(fd, account.uid, account.gid)
    finally:
        os.close(fd)


def _share_folder(fd: int, account: ServiceAccount, extra_bits: int = 0) -> None:
    info = os.fstat(fd)
    if info.st_uid == 0:
        # Root's folders stay root's, the group's to write in: below var's sticky
        # bit the service user cannot swap one for a link root would then follow.
        if info.st_gid != account.gid:
            os.fchown(fd, -1, account.gid)
    elif info.st_gid != account.gid:
        # Another user's folder (rclone's): left as it is.
        return
    wanted = SHARED_DIR_BITS | extra_bits
    if stat.S_IMODE(info.st_mode) & wanted != wanted:
        os.fchmod(fd, stat.S_IMODE(info.st_mode) | wanted)
