"""The command that starts a nursery: bubblewrap's namespaces, mounts and
environment, the runner's files bound read-only, the drop to the sandbox user, and
the check that all of it works on this host. Why it is built so (bubblewrap as
root, then `setpriv` to a user that owns nothing) opens worker_wing/judge/sandbox.py,
which forks, watches and reuses the boxes the nursery makes.
"""

from __future__ import annotations

import os
import pwd
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from worker_wing.judge.job_cgroup import cgroup_problem
from worker_wing.judge.runner_box import BOX_INPUT, BOXES

# Paths inside the sandbox: its own tmpfs, not the worker's /tmp.
SANDBOX_TMP = "/tmp"  # noqa: S108
SANDBOX_OUT = f"{SANDBOX_TMP}/ppipe-out"
# Room for the semaphores joblib's import check creates and unlinks.
_NURSERY_SHM_BYTES = 2**20
# The last is joblib's (scikit-learn's n_jobs=-1): its count of usable CPUs.
THREAD_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "LOKY_MAX_CPU_COUNT",
)
# The runner's other modules (sandbox_runner.py imports them), each bound read-only
# next to it: a module missing here fails every job at the zygote's first import.
RUNNER_MODULES = (
    "runner_box.py",
    "runner_confinement.py",
    "runner_figures.py",
    "runner_files.py",
    "runner_fold.py",
    "runner_labels.py",
    "runner_nursery.py",
    "runner_steps.py",
    "runner_warm.py",
)
# Where the runner's files are, inside the sandbox, laid out as in the repository
# (RUNNER_LIB/worker_wing/judge/...), so that its imports need nothing else.
RUNNER_LIB = "/job/lib"


class SandboxUnavailable(RuntimeError):
    """This worker cannot sandbox student code; the message says why and what to do."""


@dataclass(frozen=True)
class SandboxConfig:
    # "bwrap", or "none" to run without bubblewrap (trusted code only).
    mode: str = "bwrap"
    prewarm: bool = True
    bwrap: str = "/usr/bin/bwrap"
    # The writable tmpfs of a sandbox; it holds the student's outputs and logs.
    tmpfs_mb: int = 512
    # Jobs one sandbox runs (each isolated from the others) before it is replaced.
    jobs_per_sandbox: int = 100
    # Boxes a worker process keeps between jobs, one per participant (sandbox.py): each
    # idle box holds two sleeping processes and about 4 MB of its own.
    kept_boxes: int = 32
    work_root: str = field(default_factory=tempfile.gettempdir)
    # The host user student code runs as when the worker is root.
    user: str = "ppipe-sandbox"
    # The cgroup below which sandboxes get theirs; "" is the worker's own.
    cgroup_root: str = ""


def sandbox_ids(config: SandboxConfig) -> tuple[int, int]:
    """The host uid and gid student code runs as; never 0."""
    if os.geteuid() != 0:
        return os.getuid(), os.getgid()
    try:
        entry = pwd.getpwnam(config.user) if not config.user.isdigit() else None
    except KeyError:
        raise SandboxUnavailable(
            f"the sandbox user {config.user!r} does not exist: create it with "
            "`useradd --system --user-group --no-create-home --home-dir /nonexistent "
            f"--shell /usr/sbin/nologin {config.user}` "
            "(make setup does), or name another in PPIPE_SANDBOX_USER"
        ) from None
    uid, gid = (entry.pw_uid, entry.pw_gid) if entry else (int(config.user), int(config.user))
    if uid == 0 or gid == 0:
        raise SandboxUnavailable(f"the sandbox user {config.user!r} must not be root")
    return uid, gid


def _prefixes() -> list[str]:
    """The interpreter and the virtualenv, bound at the same paths so the venv resolves."""
    return sorted({sys.base_prefix, sys.prefix})


def _below_sandbox_tmp() -> list[str]:
    """Bound paths below /tmp (a virtualenv in a clone there): each job's own /tmp
    would hide them, so the runner binds them again on top of it."""
    return [prefix for prefix in _prefixes() if prefix.startswith(f"{SANDBOX_TMP}/")]


def _open_parents(path: str) -> list[str]:
    """Folders above a bind, made traversable: bubblewrap makes them root's alone,
    which the sandbox user could not pass through."""
    made: list[str] = []
    for parent in reversed(Path(path).parents[:-1]):
        if str(parent) != SANDBOX_TMP:  # the sandbox's tmpfs, writable by its user
            made += ["--perms", "0755", "--dir", str(parent)]
    return made


def read_only_system() -> list[str]:
    binds = ["--ro-bind", "/usr", "/usr"]
    for link in ("bin", "lib", "lib64", "sbin"):
        path = Path("/") / link
        if path.is_symlink():
            binds += ["--symlink", os.readlink(path), f"/{link}"]
        elif path.is_dir():
            binds += ["--ro-bind", str(path), f"/{link}"]
    for prefix in _prefixes():
        if not prefix.startswith("/usr"):
            binds += [*_open_parents(prefix), "--ro-bind", prefix, prefix]
    return binds


def _namespaces() -> list[str]:
    shared = ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts"]
    shared.append("--unshare-cgroup")
    # As root, no user namespace: inside it root would be host root; setpriv drops
    # to the sandbox user instead. Otherwise bubblewrap needs one to mount anything.
    return shared if os.geteuid() == 0 else ["--unshare-user", *shared]


def _drop_to(uid: int, gid: int) -> list[str]:
    if os.geteuid() != 0:
        return []
    return [
        "/usr/bin/setpriv",
        f"--reuid={uid}",
        f"--regid={gid}",
        "--clear-groups",
        "--bounding-set=-all",
        "--inh-caps=-all",
        "--no-new-privs",
    ]


def _runner_binds(runner: Path) -> list[str]:
    """The runner's files, read-only below RUNNER_LIB, and /job/runner.py (the name its
    processes show) a link to its script, whose real path leads its imports there."""
    package = runner.parent  # worker_wing/judge on the host
    inside = f"{RUNNER_LIB}/worker_wing/judge"
    files = [
        (package.parent / "__init__.py", f"{RUNNER_LIB}/worker_wing/__init__.py"),
        (package / "__init__.py", f"{inside}/__init__.py"),
        (runner, f"{inside}/{runner.name}"),
        *((package / name, f"{inside}/{name}") for name in RUNNER_MODULES),
    ]
    binds = _open_parents(f"{inside}/{runner.name}")
    for source, target in files:
        binds += ["--ro-bind", str(source), target]
    return [*binds, "--symlink", f"{inside}/{runner.name}", "/job/runner.py"]


def bwrap_command(
    config: SandboxConfig, boxes_dir: Path, threads: int, seccomp_fd: int, runner: Path
) -> list[str]:
    """The nursery's sandbox: `boxes_dir` (one sub-folder per box) read-only at
    /job/boxes, and an empty /job/input, where each box binds its own sub-folder."""
    uid, gid = sandbox_ids(config)
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": SANDBOX_TMP,
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        **{name: str(threads) for name in THREAD_VARIABLES},
    }
    command = [
        config.bwrap,
        *_namespaces(),
        "--hostname",
        "sandbox",
        # As root, setpriv needs CAP_SETUID to drop to the sandbox user, and then
        # clears every capability set itself; otherwise none is kept.
        *(["--cap-drop", "ALL"] if os.geteuid() != 0 else []),
        "--die-with-parent",
        "--new-session",
        "--clearenv",
        "--seccomp",
        str(seccomp_fd),
        # The tmpfs first: a virtualenv below /tmp (a fresh clone there) is then
        # bound on top of it instead of being hidden by it.
        "--size",
        str(config.tmpfs_mb * 2**20),
        # bubblewrap, as root, makes it root's: the sandbox user must write in it.
        "--perms",
        "1777",
        "--tmpfs",
        SANDBOX_TMP,
        *read_only_system(),
        "--proc",
        "/proc",
        "--dev",
        "/dev",
        *_open_parents(BOX_INPUT),
        "--dir",
        BOX_INPUT,
        "--ro-bind",
        str(boxes_dir),
        BOXES,
        *_runner_binds(runner),
        "--dir",
        "/job/hold",
        "--dir",
        "/job/fold",
        # bubblewrap's root and /dev are tmpfs mounts without a size: read-only, or a
        # student could fill the machine's memory with files there.
        "--remount-ro",
        "/dev",
        "--remount-ro",
        "/",
        # joblib (scikit-learn's n_jobs) decides once, when the nursery imports it,
        # whether it may run in parallel: by creating a POSIX semaphore in /dev/shm.
        # On the read-only /dev it could not, and every job ran n_jobs serially.
        # A tiny /dev/shm of the nursery's own (each box mounts a fresh one).
        "--size",
        str(_NURSERY_SHM_BYTES),
        "--perms",
        "1777",
        "--tmpfs",
        "/dev/shm",  # noqa: S108
        "--chdir",
        SANDBOX_TMP,
    ]
    for name, value in env.items():
        command += ["--setenv", name, value]
    nursery = [sys.executable, "-I", "-B", "/job/runner.py", BOXES, *_below_sandbox_tmp()]
    return [*command, "--", *_uncover_proc(), *_drop_to(uid, gid), *nursery]


# Run as root inside the new namespaces, before setpriv: lifts the read-only binds
# bubblewrap puts over parts of /proc (which of them depends on the host). A mount
# below a /proc makes it "not fully visible", and the kernel then refuses a box the
# /proc of its own PID namespace; each box covers the same parts of its /proc again
# (runner_box.py). The nursery runs as the sandbox user, to whom the kernel's own
# permission checks refuse those files anyway.
UNCOVER_PROC = (
    "points=$(while read -r _ _ _ _ point _; do case $point in /proc/?*) echo $point;; esac; "
    'done < /proc/self/mountinfo); for point in $points; do umount -n -l "$point" || exit 126; '
    'done; exec "$@"'
)


def _uncover_proc() -> list[str]:
    if os.geteuid() != 0:  # in a user namespace bubblewrap covers nothing
        return []
    return ["/bin/sh", "-c", UNCOVER_PROC, "ppipe-uncover-proc"]


# Joins the cgroup named by each file up to "--", then becomes the command: every
# process of the sandbox is then in its cgroup from its first instruction.
JOIN_CGROUP = 'while [ "$1" != -- ]; do echo $$ > "$1" || exit 125; shift; done; shift; exec "$@"'

# bubblewrap itself starts with nothing of the worker's environment: no broker
# URL with its password, no preloaded library (a host's clock tool, say) that
# would follow it into the sandbox and break there.
LAUNCHER_ENV = {"PATH": "/usr/bin:/bin"}


def check_bwrap(config: SandboxConfig) -> None:
    """Raise SandboxUnavailable unless bubblewrap, the sandbox user and cgroups work here."""
    if not Path(config.bwrap).is_file():
        raise SandboxUnavailable(f"bubblewrap is not installed ({config.bwrap} is missing)")
    uid, gid = sandbox_ids(config)
    problem = cgroup_problem(config.cgroup_root)
    if problem:
        raise SandboxUnavailable(
            f"the kernel cannot bound a sandbox's memory, processes and CPU here: {problem}"
        )
    probe = [config.bwrap, *_namespaces(), "--die-with-parent", *read_only_system()]
    probe += ["--", *_drop_to(uid, gid), "/usr/bin/true"]
    try:
        done = subprocess.run(probe, capture_output=True, timeout=30, check=False, env=LAUNCHER_ENV)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise SandboxUnavailable(f"bubblewrap does not start: {error}") from None
    if done.returncode != 0:
        raise SandboxUnavailable(
            f"bubblewrap does not work here: {done.stderr.decode(errors='replace').strip()}"
        )
