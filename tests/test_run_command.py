"""The README's run command, on embedded defaults: set-up, every process under
one supervisor, the admin, Flower with the workers online, /healthz 200; Ctrl-C
(SIGINT to its process group, as a terminal sends it) stops every process with
exit 0 and no traceback, and running it again keeps the data. Run as root, only the
judge and release workers keep root: every other process runs as the user ppipe,
and the demo's submissions are scored all the same (the judge writes, the control
side reads)."""

from __future__ import annotations

import contextlib
import getpass
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from tests.servers import free_port, patience, wait_until

NAMED_BY_ENV = ("DATABASE_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "SECRET_KEY")
WORKERS = {"control", "jobs", "judge", "probe"}
PROCESSES = {*WORKERS, "web", "beat", "flower", "redis", "demo-model"}
# Started as root: the judge worker (bubblewrap, cgroups) and the release worker
# (rclone as ppipe-release) keep root, the others run as ppipe.
KEEP_ROOT = {"judge", "jobs"}
AS_ROOT = os.geteuid() == 0


class Platform:
    def __init__(self, var_dir: Path) -> None:
        self.var_dir = var_dir
        self.web, self.flower, self.model = free_port(), free_port(), free_port()
        self.log = var_dir.parent / "run.log"
        env = {key: value for key, value in os.environ.items() if key not in NAMED_BY_ENV}
        env.update(
            DJANGO_SETTINGS_MODULE="ppipe_site.settings",
            PPIPE_VAR_DIR=str(var_dir),
            PPIPE_WEB_BIND=f"127.0.0.1:{self.web}",
            SITE_URL=f"http://127.0.0.1:{self.web}",
            FLOWER_PORT=str(self.flower),
            PPIPE_DEMO_MODEL_PORT=str(self.model),
            PPIPE_ADMIN_PASSWORD="",
            # The live score is published at fixed times (4 a day by default):
            # every 5 s here, over one probe's rows, to see it on the leaderboard;
            # the demo's endpoint is probed every 5 s (30 s by default), so the
            # test waits for a probe only a few seconds once the model serves.
            PPIPE_PROBE_SCORE_PUBLISH_SECONDS="5",
            PPIPE_PROBE_SCORE_MIN_ROWS="32",
            PPIPE_DEMO_PROBE_INTERVAL_SECONDS="5",
        )
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "ppipe_site.launcher"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                # A group of its own, as a shell gives a foreground job: Ctrl-C is
                # sent to that group, as a terminal sends it.
                start_new_session=True,
            )

    def get(self, path: str, **kwargs: object) -> httpx.Response:
        return self.request("GET", path, **kwargs)

    def request(self, method: str, path: str, **kwargs: object) -> httpx.Response:
        url = f"http://127.0.0.1:{self.web}{path}"
        return httpx.request(method, url, timeout=10, **kwargs)  # type: ignore[arg-type]

    def flower_workers(self) -> set[str]:
        password = (self.var_dir / "flower_password").read_text()
        try:
            response = httpx.get(
                f"http://127.0.0.1:{self.flower}/api/workers?refresh=1",
                auth=("operator", password),
                timeout=10,
            )
        except httpx.TransportError:
            # Flower starts after /healthz answers (once the demo is loaded).
            return set()
        return set(response.json()) if response.status_code == 200 else set()

    def healthy(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"the run command exited:\n{self.log.read_text()[-3000:]}")
        try:
            return self.get("/healthz").status_code == 200
        except httpx.TransportError:
            return False

    def workers_ready(self) -> bool:
        ready = {m.group(1) for m in re.finditer(r"(\w+)@\S+ ready\.", self.log.read_text())}
        return ready >= WORKERS

    def users(self) -> dict[str, set[str]]:
        """Each process the launcher started: the users it and its children run as
        (the judge's sandboxes are ppipe-sandbox's: its own user only)."""
        users = {}
        for leader in psutil.Process(self.process.pid).children():
            name = process_name(leader.cmdline())
            family = [leader] if name == "judge" else [leader, *leader.children(recursive=True)]
            users[name] = {member.username() for member in family}
        return users

    def stop_with_ctrl_c(self) -> tuple[int, list[psutil.Process]]:
        """The exit code, and the processes still alive after it (none, or a bug)."""
        children = psutil.Process(self.process.pid).children(recursive=True)
        os.killpg(self.process.pid, signal.SIGINT)
        stopping = time.monotonic()
        try:
            returncode = self.process.wait(timeout=120 * patience())
            _, alive = psutil.wait_procs(children, timeout=60 * patience())
            # Reported, not asserted (the design goal is 10 s; a loaded machine is slower).
            print(f"make run stopped in {time.monotonic() - stopping:.1f} s")
        finally:
            for leftover in children:  # no process outlives a failed test
                with contextlib.suppress(psutil.Error):
                    leftover.kill()
        return returncode, alive


def process_name(command: list[str]) -> str:
    """The launcher's name for a process, from its command line."""
    line = " ".join(command)
    worker = re.search(r" -n (\w+)@", line)
    if worker:
        return worker.group(1)
    for needle, name in (
        ("gunicorn", "web"),
        (" beat", "beat"),
        (" flower", "flower"),
        ("redis-server", "redis"),
        ("model_server", "demo-model"),
    ):
        if needle in line:
            return name
    return line


def warned_as_root(output: str) -> set[str]:
    """The processes that printed Celery's warning about running as root."""
    return set(re.findall(r"^\S+ (\S+) +\| .*superuser privileges", output, re.MULTILINE))


def demo_submission_states(var_dir: Path) -> list[str]:
    """Read straight from the platform's own SQLite file, as an operator could."""
    with contextlib.closing(sqlite3.connect(var_dir / "ppipe.sqlite3", timeout=10)) as db:
        return [row[0] for row in db.execute("SELECT state FROM judging_submission")]


@pytest.fixture(scope="module")
def var_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    # Shared by the module's tests: the second starts again on the first's data.
    if not AS_ROOT:
        yield tmp_path_factory.mktemp("run-command") / "var"
        return
    # pytest's own folder is root's alone (0700): ppipe could not reach var in it.
    folder = Path(tempfile.mkdtemp(prefix="ppipe-run-command-"))
    folder.chmod(0o711)
    try:
        yield folder / "var"
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_the_run_command_brings_up_the_platform_and_ctrl_c_stops_it(var_dir: Path) -> None:
    platform = Platform(var_dir)
    try:
        wait_until(platform.healthy, timeout=120, what="/healthz to answer 200", interval=0.5)
        wait_until(
            lambda: {name.split("@")[0] for name in platform.flower_workers()} >= WORKERS,
            timeout=120,
            what="Flower to show the control, jobs, judge and probe workers online",
        )
        assert platform.get("/admin/login/").status_code == 200
        css = (
            platform.get("/admin/login/")
            .text.split('href="/static/admin/css/base.')[1]
            .split('"')[0]
        )
        assert platform.get(f"/static/admin/css/base.{css}").status_code == 200
        anonymous = httpx.get(f"http://127.0.0.1:{platform.flower}/api/workers", timeout=10)
        assert anonymous.status_code == 401
        second = Platform(var_dir)
        assert second.process.wait(timeout=60 * patience()) != 0
        assert "ppipe is already running from" in second.log.read_text()
        assert platform.healthy()
        first_release = var_dir / "releases" / "breast-cancer-demo" / "release-001.csv"
        wait_until(first_release.exists, timeout=90, what="the demo's first release on disk")
        assert first_release.read_text().startswith("patient_id,")
        wait_until(
            lambda: demo_submission_states(var_dir) == ["scored"] * 4,
            timeout=180,
            what="the four demo submissions to be scored",
        )
        # While everything runs (a pool's children included): who runs as whom.
        me = getpass.getuser()
        assert platform.users() == {
            name: {"root" if AS_ROOT and name in KEEP_ROOT else "ppipe" if AS_ROOT else me}
            for name in PROCESSES
        }
        if AS_ROOT:
            # One store for both sides: what root wrote (the judge's results, the
            # demo's inputs) the control side reads through the group, as the
            # scores above show, and the code stays root's.
            stored = [path for path in (var_dir / "artifacts").rglob("*") if path.is_file()]
            assert stored
            assert all(path.group() == "ppipe" and path.stat().st_mode & 0o040 for path in stored)
            assert Path(sys.prefix).owner() == "root"
        password = (var_dir / "admin_password").read_text()
        token = platform.request(
            "POST", "/api/auth/token/", data={"username": "admin", "password": password}
        ).json()["token"]

        def leaderboard() -> dict[str, Any]:
            return platform.get(
                "/api/challenges/breast-cancer-demo/leaderboard/",
                headers={"Authorization": f"Token {token}"},
            ).json()

        # The demo model server, trained on the releases as they land, is probed
        # and scored: its row gets a live score.
        # Each web process caches the leaderboard a few seconds: the board that
        # showed the live score is the one checked.
        boards: list[dict[str, Any]] = []

        def live_score_shown() -> bool:
            boards.append(leaderboard())
            return any(
                row["participant"] == "demo-ada" and row["endpoint_score"]
                for row in boards[-1]["rows"]
            )

        wait_until(
            live_score_shown,
            timeout=120,
            what="a successful probe of the demo endpoint on the leaderboard",
            interval=2,
        )
        board = boards[-1]
        live = next(row for row in board["rows"] if row["participant"] == "demo-ada")
        assert live["endpoint_score"] >= 0.8  # published on a step of 0.2 (32 rows)
        assert live["endpoint_p95_ms"] > 0
        assert {row["participant"] for row in board["rows"]} == {
            "demo-ada",
            "demo-grace",
            "demo-hopper",
            "demo-linus",
        }
        assert all(row["public_score"] is not None for row in board["rows"])
    finally:
        _, left_running = platform.stop_with_ctrl_c()
    assert left_running == []
    output = platform.log.read_text()
    assert warned_as_root(output) == (KEEP_ROOT if AS_ROOT else set())
    # The judge's sandboxes cannot write bytecode: its worker starts only once the
    # launcher's step has compiled their libraries.
    judge_first_line = re.search(r"^\S+ judge +\|", output, re.MULTILINE)
    assert judge_first_line is not None
    assert 0 <= output.find("set-up step done: bytecode") < judge_first_line.start()
    assert "Demo challenge created: breast-cancer-demo" in output
    assert f"Demo endpoint registered: http://127.0.0.1:{platform.model}" in output
    assert f"http://127.0.0.1:{platform.web}/admin/" in output


def test_running_it_again_keeps_the_data_and_ctrl_c_ends_it_without_a_traceback(
    var_dir: Path,
) -> None:
    # The first start is the test above's, on the same folder: one start less.
    if not (var_dir / "admin_password").exists():
        first = Platform(var_dir)
        wait_until(first.healthy, timeout=120, what="the first start", interval=0.5)
        first.stop_with_ctrl_c()
    password = (var_dir / "admin_password").read_text()

    second = Platform(var_dir)
    try:
        wait_until(second.healthy, timeout=120, what="the second start", interval=0.5)
        wait_until(second.workers_ready, timeout=120, what="the four workers", interval=1)
        login = httpx.Client(base_url=f"http://127.0.0.1:{second.web}", timeout=10)
        page = login.get("/admin/login/")
        token = page.cookies["csrftoken"]
        response = login.post(
            "/admin/login/?next=/admin/challenges/challenge/",
            data={"username": "admin", "password": password, "csrfmiddlewaretoken": token},
            follow_redirects=True,
        )
    finally:
        returncode, left_running = second.stop_with_ctrl_c()
    output = second.log.read_text().split("Setting up")[-1]
    # Every process told once, in order: no pool child dies before its worker.
    assert (returncode, left_running) == (0, [])
    assert "Traceback" not in output
    assert "WorkerLostError" not in output
    assert "Breast cancer diagnosis (demo)" in response.text
    assert "Admin account exists" in output
    assert "Demo challenge exists" in output
