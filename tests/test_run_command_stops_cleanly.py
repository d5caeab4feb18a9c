"""`make run` stopped with Ctrl-C: a terminal sends SIGINT to the whole foreground
process group; every process of the platform ends, the command exits 0, and its
output holds no traceback (no WorkerLostError from pool children told first)."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil

from tests.servers import free_port, wait_until

NAMED_BY_ENV = ("DATABASE_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "SECRET_KEY")
WORKERS = ("control", "jobs", "judge", "probe")


def start_run_command(var_dir: Path, log: Path) -> tuple[subprocess.Popen[bytes], int]:
    """The launcher on its own ports and var folder, as a terminal's foreground job."""
    web, flower, model = free_port(), free_port(), free_port()
    env = {key: value for key, value in os.environ.items() if key not in NAMED_BY_ENV}
    env.update(
        DJANGO_SETTINGS_MODULE="ppipe_site.settings",
        PPIPE_VAR_DIR=str(var_dir),
        PPIPE_WEB_BIND=f"127.0.0.1:{web}",
        SITE_URL=f"http://127.0.0.1:{web}",
        FLOWER_PORT=str(flower),
        PPIPE_DEMO_MODEL_PORT=str(model),
        PPIPE_ADMIN_PASSWORD="",
    )
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "ppipe_site.launcher"],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            # A group of its own, as a shell gives a foreground job: the test's
            # Ctrl-C goes to that group, as the terminal's does.
            start_new_session=True,
        )
    return process, web


def up(process: subprocess.Popen[bytes], web: int, log: Path) -> bool:
    assert process.poll() is None, log.read_text()[-3000:]
    ready = {m.group(1) for m in re.finditer(r"(\w+)@\S+ ready\.", log.read_text())}
    try:
        healthy = httpx.get(f"http://127.0.0.1:{web}/healthz", timeout=10).status_code == 200
    except httpx.TransportError:
        return False
    return healthy and set(WORKERS) <= ready


def descendants(pid: int) -> list[psutil.Process]:
    """Every process below `pid` (a short-lived one may end while they are listed)."""
    for _ in range(20):
        with contextlib.suppress(psutil.NoSuchProcess):
            return psutil.Process(pid).children(recursive=True)
    raise AssertionError("the process tree kept changing while listed")


def test_ctrl_c_stops_every_process_of_the_run_command_without_a_traceback(
    tmp_path: Path,
) -> None:
    log = tmp_path / "run.log"
    process, web = start_run_command(tmp_path / "var", log)
    children: list[psutil.Process] = []
    try:
        wait_until(lambda: up(process, web, log), timeout=240, what="the platform", interval=1)
        children += descendants(process.pid)
        assert len(children) >= 9  # redis, web, 4 workers, beat, demo model, Flower

        os.killpg(process.pid, signal.SIGINT)
        stopping = time.monotonic()
        returncode = process.wait(timeout=120)
        _, alive = psutil.wait_procs(children, timeout=60)
        # Reported, not asserted (the design goal is 10 s; a loaded machine is slower).
        print(f"make run stopped in {time.monotonic() - stopping:.1f} s")
    finally:
        # Whatever is left when the test failed: no process outlives it.
        for leftover in children:
            with contextlib.suppress(psutil.Error):
                leftover.kill()
        process.kill()
        process.wait()
    output = log.read_text()
    assert returncode == 0, output[-3000:]
    assert alive == []
    assert "Traceback" not in output
    assert "WorkerLostError" not in output
