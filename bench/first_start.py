"""First start: a fresh clone's `make run`, timed to /healthz and to the demo's
four scored rows on the leaderboard.

The clone is of this repository's HEAD (commit what you measure), in a temporary
folder removed afterwards, with empty pip and uv caches of its own (a first start
on a new machine has none), on free ports. The baseline, in the same run and the
same kind of folder: a bare `python -m venv` and `pip install -e '.[control]'`, the
same requirements `make run` installs, as a plain set-up would do it.

    .venv/bin/python bench/first_start.py [--skip-baseline]

Prints each milestone's seconds, the load average before and after, and the ratio
of the install part against the baseline.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
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
                if b"Setting up:" in line and "installed" not in self.marks:
                    self.marks["installed"] = time.monotonic() - self.started

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
        password = (self.source / "var" / "admin_password").read_text()
        base = f"http://127.0.0.1:{self.web}"
        token = httpx.post(
            f"{base}/api/auth/token/", data={"username": "admin", "password": password}, timeout=10
        ).json()["token"]
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


def report(start: FirstStart, bare: float | None, loads: str) -> None:
    installed = start.marks.get("installed", float("nan"))
    print(f"\nload average {loads}", flush=True)
    print("| measure | seconds |")
    print("|---|---|")
    print(f"| make run: venv + install (to 'Setting up') | {installed:.0f} |")
    print(f"| make run: to /healthz 200 | {start.marks['healthz']:.0f} |")
    print(f"| make run: to the four demo rows scored | {start.marks['scored']:.0f} |")
    if bare is not None:
        print(f"| baseline: bare venv + pip install -e '.[control]' | {bare:.0f} |")
        print(f"\nratio, make run's install / baseline: {installed / bare:.2f}")
        to_health = start.marks["healthz"] / bare
        print(f"ratio, make run to /healthz / the baseline's install alone: {to_health:.2f}")
    print(flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument("--source", type=Path, default=REPOSITORY, help="the repository to clone")
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
    try:
        start = FirstStart(folder / "run")
        try:
            start.wait_for("healthz", start.healthy)
            print(f"  /healthz 200 after {start.marks['healthz']:.0f} s", flush=True)
            start.wait_for("scored", start.four_rows_scored)
            print(f"  four demo rows scored after {start.marks['scored']:.0f} s", flush=True)
        finally:
            start.stop()
        after_run = load()
        bare = None if arguments.skip_baseline else baseline(folder / "baseline")
        loads = f"before: {before}; after make run: {after_run}; after the baseline: {load()}"
        report(start, bare, loads)
    finally:
        remove_temp_dir(folder)


if __name__ == "__main__":
    main()
