"""Two participants' boxes, forked from one nursery and running at the same time,
cannot reach each other: not the other's inputs (/job/input, /job/boxes), not its
/tmp, not its processes, not its loopback. Real bubblewrap, real worker code; the
first participant's job waits, listening on loopback, until the second's is done."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import psutil

from tests.judge_kits import LIMITS, estimator_doing, judge
from tests.servers import patience
from tests.test_sandbox_cgroup import wait_until
from worker_wing.judge import sandbox
from worker_wing.judge.sandbox import SandboxConfig

PORT = 47_123
# Box A's marks: in its estimator.py (its /job/input) and a process's command line.
# Box B's code spells them in two pieces, so that its own files never hold them.
FIRST = estimator_doing(
    "# BOX-A-TOKEN\n"
    "import subprocess\n"
    "subprocess.Popen(['/bin/sleep', '300.4242'])\n"
    "listening = socket.socket()\n"
    "listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)\n"
    f"listening.bind(('127.0.0.1', {PORT}))\n"
    "listening.listen()\n"
    "deadline = time.monotonic() + 600\n"
    "while not os.path.exists('/job/input/release') and time.monotonic() < deadline:\n"
    "    time.sleep(0.05)"
)
SECOND = estimator_doing(
    "import glob\n"
    "token = 'BOX-A-' + 'TOKEN'\n"
    "try:\n"
    f"    socket.create_connection(('127.0.0.1', {PORT}), timeout=5)\n"
    "    raise AssertionError('reached the other box on loopback')\n"
    "except ConnectionRefusedError:\n"
    "    pass\n"
    "assert os.listdir('/job/boxes') == [], os.listdir('/job/boxes')\n"
    "for root, folders, files in os.walk('/job'):\n"
    "    for name in files:\n"
    "        try:\n"
    "            held = open(os.path.join(root, name), 'rb').read()\n"
    "        except OSError:\n"
    "            continue\n"
    "        assert token.encode() not in held, os.path.join(root, name)\n"
    "pids = sorted(int(p) for p in os.listdir('/proc') if p.isdigit())\n"
    "assert pids[0] == 1, pids\n"
    "lines = [open(p, 'rb').read() for p in glob.glob('/proc/[0-9]*/cmdline')]\n"
    "assert not any(b'300.' + b'4242' in line for line in lines), lines"
)


def _zygotes(nursery_pid: int) -> list[int]:
    """The host pids of the zygotes (PID 1 of each box) of the nursery's boxes."""
    return [
        zygote.pid
        for first in psutil.Process(nursery_pid).children()
        for zygote in first.children()
    ]


def test_two_boxes_of_one_nursery_reach_nothing_of_each_other(tmp_path: Path) -> None:
    config = SandboxConfig(prewarm=True, work_root=str(tmp_path))
    slow = {**LIMITS, "wall_seconds": 900}
    sandbox.sandbox_prewarm(config, 1)
    nursery = sandbox._nursery
    assert nursery is not None
    assert nursery.await_ready() == ""
    results: dict[str, dict[str, Any]] = {}

    def first_job() -> None:
        results["first"] = judge(
            tmp_path, FIRST, sandbox=config, participant="participant-1", limits=slow
        )

    first = threading.Thread(target=first_job)
    first.start()
    try:
        # Box A's student listens: its network namespace (not this one) shows the port.
        def listening() -> bool:
            zygotes = _zygotes(nursery.host_pid)
            return any(
                f":{PORT:04X} 00000000:0000 0A" in Path(f"/proc/{pid}/net/tcp").read_text()
                for pid in zygotes
            )

        wait_until(listening, 120)
        second = judge(tmp_path, SECOND, sandbox=config, participant="participant-2", limits=slow)
        # Both boxes are alive now: box B kept for its participant, box A still in its job.
        zygotes = _zygotes(nursery.host_pid)
        a_folder = next(
            folder
            for folder in nursery.folder.iterdir()
            if (code := folder / "submission" / "estimator.py").exists()
            and b"BOX-A-TOKEN" in code.read_bytes()
        )
        kept = sandbox.kept_boxes()[-1]
        assert kept.zygote is not None
        assert len(zygotes) == 2, zygotes
        b_pid = kept.zygote.pid
        a_pid = next(pid for pid in zygotes if pid != b_pid)
        # Seen from the host: each box's /job/input is its own folder, its /tmp its own.
        assert sorted(os.listdir(f"/proc/{a_pid}/root/job/input")) == sorted(os.listdir(a_folder))
        assert "submission" not in os.listdir(f"/proc/{b_pid}/root/job/input")  # cleared
        a_tmp, b_tmp = (os.stat(f"/proc/{pid}/root/tmp").st_dev for pid in (a_pid, b_pid))
        assert a_tmp != b_tmp
        assert os.path.exists(f"/proc/{a_pid}/root/tmp/ppipe-out/phase")
        assert not os.path.exists(f"/proc/{b_pid}/root/tmp/ppipe-out/phase")
    finally:
        for folder in nursery.folder.iterdir():
            if folder.is_dir():
                (folder / "release").touch()
        first.join(timeout=600 * patience())

    assert second["ok"] is True, second["reason"]
    assert results["first"]["ok"] is True, results["first"]["reason"]
