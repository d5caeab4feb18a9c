"""First start: a fresh clone's `make run`, timed to /healthz and to the demo's
four scored rows on the leaderboard.

The clone is of this repository's HEAD (commit what you measure), in a temporary
folder removed afterwards, with empty pip and uv caches of its own (a first start
on a new machine has none), on free ports. The baseline, in the same run and the
same kind of folder: a bare `python -m venv` and `pip install -e '.[control]'`, the
same requirements `make run` installs, as a plain set-up would do it.

    .venv/bin/python bench/first_start.py [--skip-baseline] [--hogs N] [--source DIR]

Prints each milestone's seconds (make's steps, the installer's steps, the set-up
steps, each worker ready, /healthz, the four rows), the CPU seconds of the whole
first start (every process `make run` started, from the kernel's accounting of
waited children) and of each kind of process (sampled), the 1-minute load average
during the run, and the ratio of the install part against the baseline.

`--hogs N` starts N busy loops at nice 0 beside the run (stopped by PID at the
end), so that "at load 5" can be measured on a quiet machine: on an idle 2-core
machine, `--hogs 5` holds the 1-minute load at about 5 plus the run's own.
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import os
import re
import resource
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import psutil
from harness import bench_temp_dir, remove_temp_dir

REPOSITORY = Path(__file__).resolve().parent.parent
# What is cloned: this repository, or --source (another checkout, to compare).
SOURCE = REPOSITORY
SLUG = "breast-cancer-demo"
# The platform's own defaults, not the developer's: as a newcomer's `make run` starts.
NAMED_BY_ENV = ("DATABASE_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "SECRET_KEY")
DEADLINE_SECONDS = 900
PR_SET_CHILD_SUBREAPER = 36  # <linux/prctl.h>
# Lines of `make run`'s output that mark a step, in the order they come on a first
# start: make echoes its recipe's commands; the installer, the supervisor and the
# workers print the rest.
MILESTONES: list[tuple[str, re.Pattern[str]]] = [
    (name, re.compile(pattern))
    for name, pattern in [
        ("venv made (make: install_requirements.py starts)", r"install_requirements\.py"),
        ("uv installed by pip", r"^install: uv [0-9.]+ ready"),
        ("packages installed (uv or pip)", r"^install: \S+ installed"),
        ("bytecode compiled by the installer", r"^install: bytecode compiled"),
        ("system packages checked (launcher starts)", r"-m ppipe_site\.launcher"),
        ("launcher's Django loaded ('Setting up')", r"Setting up:"),
        ("set-up step: migrate", r"set-up step done: migrate"),
        ("set-up step: static", r"set-up step done: static"),
        ("set-up step: bytecode", r"set-up step done: bytecode"),
        ("set-up step: platform (demo loaded)", r"set-up step done: platform"),
        ("web: first gunicorn worker booted", r"\| .*Booting worker"),
        ("control worker ready", r"control@\S+ ready\."),
        ("jobs worker ready", r"jobs@\S+ ready\."),
        ("probe worker ready", r"probe@\S+ ready\."),
        ("judge worker ready", r"judge@\S+ ready\."),
    ]
]
# What each process of a first start is, from its command line (first match wins),
# to sum CPU seconds by kind.
PROCESS_KINDS: list[tuple[str, re.Pattern[str]]] = [
    (name, re.compile(pattern))
    for name, pattern in [
        ("sandboxes (judge jobs)", r"bwrap|/job/runner\.py|sandbox_runner"),
        ("bytecode (compileall)", r"compileall|sandbox_bytecode"),
        ("uv", r"/uv |/uv$|bin/uv"),
        ("pip", r"-m pip|bin/pip"),
        ("venv", r"-m venv"),
        ("collectstatic", r"collectstatic"),
        ("web (gunicorn)", r"gunicorn"),
        ("beat", r"celery .*beat"),
        ("flower", r"flower"),
        ("control worker", r"-Q control"),
        ("judge worker", r"-Q judge"),
        ("jobs worker", r"-Q dispatch"),
        ("probe worker", r"-Q probe"),
        ("demo model", r"model_server"),
        ("redis", r"redis-server"),
        ("launcher (Django, migrate, set-up)", r"ppipe_site\.launcher"),
        ("install_requirements.py", r"install_requirements"),
        ("system packages check", r"system_packages"),
        ("rclone", r"rclone"),
        ("make, shells and others", r""),
    ]
]
GIT = shutil.which("git") or "/usr/bin/git"
MAKE = shutil.which("make") or "/usr/bin/make"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def fresh_environment(folder: Path) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if key not in NAMED_BY_ENV}
    # Cold caches, as on a new machine; and no inherited virtualenv.
    env.update(PIP_CACHE_DIR=str(folder / "pip-cache"), UV_CACHE_DIR=str(folder / "uv-cache"))
    env.pop("VIRTUAL_ENV", None)
    # A newcomer's shell writes bytecode; this session's may have it switched off.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def clone(folder: Path) -> Path:
    target = folder / "ppipe"
    subprocess.run([GIT, "clone", "--quiet", str(SOURCE), str(target)], check=True)
    return target


def baseline(folder: Path) -> float:
    """A bare virtualenv and pip install of `.[control]`, timed."""
    source = clone(folder)
    env = fresh_environment(folder)
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "venv", ".venv"], cwd=source, env=env, check=True)
    pip = [".venv/bin/python", "-m", "pip", "install", "--quiet", "-e", ".[control]"]
    subprocess.run(pip, cwd=source, env=env, check=True, stderr=subprocess.DEVNULL)
    return time.monotonic() - started


class FirstStart:
    """`make run` in a fresh clone, its output read line by line for milestones."""

    def __init__(self, folder: Path) -> None:
        self.source = clone(folder)
        self.web, self.flower, self.model = free_port(), free_port(), free_port()
        self.env = fresh_environment(folder)
        self.env.update(
            PPIPE_WEB_BIND=f"127.0.0.1:{self.web}",
            SITE_URL=f"http://127.0.0.1:{self.web}",
            FLOWER_PORT=str(self.flower),
            PPIPE_DEMO_MODEL_PORT=str(self.model),
            PPIPE_ADMIN_PASSWORD="",
        )
        self.log = folder / "make-run.log"
        self.marks: dict[str, float] = {}
        self.token = ""
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            [MAKE, "run"],
            cwd=self.source,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.process.stdout is not None
        with self.log.open("wb") as log:
            for line in iter(self.process.stdout.readline, b""):
                log.write(line)
                text = line.decode(errors="replace")
                for name, pattern in MILESTONES:
                    if name not in self.marks and pattern.search(text):
                        self.marks[name] = time.monotonic() - self.started

    def wait_for(self, name: str, condition: object) -> float:
        deadline = self.started + DEADLINE_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                tail = self.log.read_text(errors="replace")[-3000:]
                raise SystemExit(f"make run exited ({self.process.returncode}):\n{tail}")
            with contextlib.suppress(httpx.HTTPError, OSError, KeyError, ValueError):
                if condition():  # type: ignore[operator]
                    self.marks[name] = time.monotonic() - self.started
                    return self.marks[name]
            time.sleep(0.5)
        raise SystemExit(f"{name}: not reached within {DEADLINE_SECONDS} s (log: {self.log})")

    def healthy(self) -> bool:
        return httpx.get(f"http://127.0.0.1:{self.web}/healthz", timeout=5).status_code == 200

    def four_rows_scored(self) -> bool:
        base = f"http://127.0.0.1:{self.web}"
        if not self.token:
            # Once: the bench's own requests take CPU from the start it measures.
            password = (self.source / "var" / "admin_password").read_text()
            self.token = httpx.post(
                f"{base}/api/auth/token/",
                data={"username": "admin", "password": password},
                timeout=10,
            ).json()["token"]
        token = self.token
        board = httpx.get(
            f"{base}/api/challenges/{SLUG}/leaderboard/",
            headers={"Authorization": f"Token {token}"},
            timeout=10,
        ).json()
        scored = [row for row in board["rows"] if row["public_score"] is not None]
        return len(scored) >= 4

    def stop(self) -> None:
        """Ctrl-C as a terminal sends it, then nothing of it may be left."""
        with contextlib.suppress(psutil.Error):
            children = psutil.Process(self.process.pid).children(recursive=True)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGINT)
        try:
            self.process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        _, alive = psutil.wait_procs(children, timeout=30)
        for leftover in alive:
            with contextlib.suppress(psutil.Error):
                leftover.kill()


HOG = (
    "import os\n"
    "try:\n    os.setpriority(os.PRIO_PROCESS, 0, 0)\n"
    "except OSError:\n    pass\n"
    "while True:\n    pass\n"
)


class Hogs:
    """N busy loops at nice 0: the load a first start is measured under. Stopped by
    their PIDs (never by name: other engineers' processes share the machine)."""

    def __init__(self, count: int) -> None:
        self.processes = [
            subprocess.Popen([sys.executable, "-c", HOG], stdin=subprocess.DEVNULL)
            for _ in range(count)
        ]

    def stop(self) -> None:
        for hog in self.processes:
            with contextlib.suppress(ProcessLookupError):
                hog.kill()
        for hog in self.processes:
            hog.wait()


class Sampler:
    """A thread that calls `sample` every `interval` seconds until stopped."""

    def __init__(self, sample: Callable[[], None], interval: float) -> None:
        self._sample, self._interval = sample, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            with contextlib.suppress(psutil.Error, OSError):
                self._sample()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


class LoadWatch:
    """The 1-minute load average, every 5 s, while the run lasts."""

    def __init__(self) -> None:
        self.values: list[float] = []
        self._sampler = Sampler(lambda: self.values.append(os.getloadavg()[0]), 5.0)

    def stop(self) -> str:
        self._sampler.stop()
        if not self.values:
            return "no sample"
        mean = sum(self.values) / len(self.values)
        return f"min {min(self.values):.1f}, mean {mean:.1f}, max {max(self.values):.1f}"


class CpuProfile:
    """CPU seconds (user + system) of every process below `make run`, by kind,
    sampled twice a second: a process that lives less than that is missed, which is
    what the total from the kernel's accounting (`unattributed`) shows."""

    def __init__(self, root_pid: int) -> None:
        self.root = psutil.Process(root_pid)
        # (pid, start time) -> (kind, last CPU seconds seen)
        self.seen: dict[tuple[int, float], tuple[str, float]] = {}
        self._sampler = Sampler(self._sample, 0.5)

    @staticmethod
    def kind(command: str) -> str:
        return next(name for name, pattern in PROCESS_KINDS if pattern.search(command))

    def _sample(self) -> None:
        for process in [self.root, *self.root.children(recursive=True)]:
            with contextlib.suppress(psutil.Error), process.oneshot():
                times = process.cpu_times()
                # Classified at every sample: a child of make is `make` until it execs.
                command = " ".join(process.cmdline()) or process.name()
                key = (process.pid, process.create_time())
                self.seen[key] = (self.kind(command), times.user + times.system)

    def stop(self) -> dict[str, float]:
        self._sampler.stop()
        by_kind: dict[str, float] = {}
        for kind, cpu in self.seen.values():
            by_kind[kind] = by_kind.get(kind, 0.0) + cpu
        return by_kind


def become_subreaper() -> None:
    """Orphans of `make run` (a server whose parent ended first) are reparented to
    this process instead of init, so their CPU reaches RUSAGE_CHILDREN once reaped."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_CHILD_SUBREAPER)")


def reap_orphans(keep: set[int], timeout: float = 60.0) -> None:
    """Wait for every child but `keep` (the hogs): the orphans `make run` left."""
    deadline = time.monotonic() + timeout
    while orphans := [child for child in psutil.Process().children() if child.pid not in keep]:
        for orphan in orphans:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(orphan.pid, os.WNOHANG)
        if time.monotonic() > deadline:
            print(f"  still running after make run ended: {[o.pid for o in orphans]}")
            return
        time.sleep(0.2)


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def report(
    start: FirstStart,
    bare: float | None,
    *,
    loads: str,
    during: str,
    cpu_total: float,
    cpu_by_kind: dict[str, float],
) -> None:
    installed = start.marks.get("launcher's Django loaded ('Setting up')", float("nan"))
    print(f"\nload average {loads}; 1-minute load during make run: {during}", flush=True)
    print("\n| milestone of make run (fresh clone, cold caches) | seconds |")
    print("|---|---|")
    for name, seconds in sorted(start.marks.items(), key=lambda mark: mark[1]):
        print(f"| {name} | {seconds:.1f} |")
    print("\n| CPU seconds (user + system) | seconds |")
    print("|---|---|")
    print(f"| the whole first start, to the four rows and Ctrl-C (kernel) | {cpu_total:.1f} |")
    for kind, cpu in sorted(cpu_by_kind.items(), key=lambda item: -item[1]):
        print(f"| {kind} (sampled) | {cpu:.1f} |")
    print(f"| unattributed (short-lived processes) | {cpu_total - sum(cpu_by_kind.values()):.1f} |")
    if bare is not None:
        print(f"\nbaseline: bare venv + pip install -e '.[control]': {bare:.0f} s")
        print(f"ratio, make run's install (to 'Setting up') / baseline: {installed / bare:.2f}")
        to_health = start.marks["healthz"] / bare
        print(f"ratio, make run to /healthz / the baseline's install alone: {to_health:.2f}")
    print(flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--source", type=Path, default=REPOSITORY, help="the repository to clone")
    parser.add_argument(
        "--hogs", type=int, default=0, help="busy loops at nice 0 to run beside (the load)"
    )
    arguments = parser.parse_args()
    global SOURCE
    SOURCE = arguments.source.resolve()
    head = subprocess.run(
        [GIT, "rev-parse", "--short", "HEAD"], cwd=SOURCE, capture_output=True, text=True
    ).stdout.strip()
    before = load()
    print(f"first start of {head}; load average before: {before}", flush=True)
    # The figures are printed before the folder is removed (two virtualenvs: slow).
    # Removed however the bench ends, SIGTERM included (bench/harness.py).
    folder = bench_temp_dir("ppipe-bench-first-start-")
    become_subreaper()
    hogs = Hogs(arguments.hogs)
    try:
        watch = LoadWatch()
        cpu_before = children_cpu_seconds()
        start = FirstStart(folder / "run")
        profile = CpuProfile(start.process.pid)
        try:
            start.wait_for("healthz", start.healthy)
            print(f"  /healthz 200 after {start.marks['healthz']:.0f} s", flush=True)
            start.wait_for("scored", start.four_rows_scored)
            print(f"  four demo rows scored after {start.marks['scored']:.0f} s", flush=True)
        finally:
            cpu_by_kind = profile.stop()
            start.stop()
        reap_orphans({hog.pid for hog in hogs.processes})
        # `make run` and everything below it have been waited for (the hogs not yet).
        cpu_total = children_cpu_seconds() - cpu_before
        during = watch.stop()
        after_run = load()
        bare = None if arguments.skip_baseline else baseline(folder / "baseline")
        loads = f"before: {before}; after make run: {after_run}; after the baseline: {load()}"
        report(
            start,
            bare,
            loads=loads,
            during=during,
            cpu_total=cpu_total,
            cpu_by_kind=cpu_by_kind,
        )
    finally:
        hogs.stop()
        remove_temp_dir(folder)


if __name__ == "__main__":
    main()
