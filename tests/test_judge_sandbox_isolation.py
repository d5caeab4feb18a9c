"""The sandbox shows a job nothing of the worker (its files, its store, the other
jobs), refuses to run without bubblewrap unless told so, and measures the CPU
time and memory of the student's code."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.judge_kits import GOOD, LIMITS, estimator_doing, judge
from tests.servers import patience
from worker_wing.judge import sandbox
from worker_wing.judge.sandbox import SandboxConfig


def test_the_workers_files_and_store_are_not_there(tmp_path: Path) -> None:
    secret = tmp_path / "labels.csv"
    secret.write_text("row_id,target\n")
    readme = Path(__file__).resolve().parent.parent / "README.md"
    peeks = [
        f"os.listdir({str(tmp_path / 'artifacts')!r})",
        f"open({str(secret)!r}).read()",
        f"open({str(readme)!r}).read()",
    ]

    for path_check in peeks:
        result = judge(tmp_path, estimator_doing(path_check))
        assert "raised FileNotFoundError" in result["reason"], (path_check, result["reason"])


def test_a_warm_sandbox_starts_clean_for_each_job(tmp_path: Path) -> None:
    warm = SandboxConfig(prewarm=True, work_root=str(tmp_path))
    leave = estimator_doing("open('/tmp/left-behind', 'w').write('x')")
    find = estimator_doing("assert not os.path.exists('/tmp/left-behind'), 'found it'")

    first = judge(tmp_path, leave, sandbox=warm)
    second = judge(tmp_path, find, sandbox=warm)

    assert first["ok"] is True
    assert second["ok"] is True, second["reason"]


def test_without_bubblewrap_the_worker_refuses_and_says_how_to_fix_it(tmp_path: Path) -> None:
    missing = SandboxConfig(bwrap=str(tmp_path / "no-bwrap"), work_root=str(tmp_path))

    result = judge(tmp_path, GOOD, sandbox=missing)

    assert result["ok"] is False
    assert result["transient"] is True
    assert "cannot sandbox student code" in result["reason"]
    assert "PPIPE_SANDBOX=none" in result["reason"]


def test_an_explicit_none_runs_without_a_sandbox(tmp_path: Path) -> None:
    unsandboxed = SandboxConfig(mode="none", prewarm=False, work_root=str(tmp_path))

    result = judge(tmp_path, GOOD, sandbox=unsandboxed)

    assert result["ok"] is True, result["reason"]
    assert result["provenance"]["sandbox"] == "none"


def test_cpu_time_and_memory_of_the_students_code_are_measured(tmp_path: Path) -> None:
    burn = "end = time.process_time() + 0.5\nwhile time.process_time() < end:\n    pass"
    hold = "b = bytearray(300 * 2**20)\nfor i in range(0, len(b), 4096):\n    b[i] = 1"

    burnt = judge(tmp_path, estimator_doing(burn))
    held = judge(tmp_path, estimator_doing(hold), limits={**LIMITS, "memory_mb": 1024})

    # Three folds of half a second each, and what the libraries add on top.
    assert 1.4 <= burnt["cpu_seconds"] < 4
    assert all(fold["cpu_seconds"] >= 0.45 for fold in burnt["folds"])
    assert held["peak_memory_mb"] >= 300
    assert all(fold["peak_memory_mb"] >= 300 for fold in held["folds"])


def warm_pair(tmp_path: Path, first: str, second: str) -> tuple[dict, dict]:
    """Two jobs judged one after the other by the same reused sandbox."""
    config = SandboxConfig(prewarm=True, work_root=str(tmp_path))
    one = judge(tmp_path, first, sandbox=config)
    box = sandbox.kept_boxes()[-1]
    two = judge(tmp_path, second, sandbox=config)
    assert sandbox.kept_boxes()[-1] is box, "the sandbox was not reused"
    assert box.jobs == 2
    return one, two


def test_nothing_a_job_leaves_reaches_the_next_job_in_the_same_sandbox(tmp_path: Path) -> None:
    leave = estimator_doing(
        "open('/tmp/left-behind', 'w').write('x')\n"
        "open('/dev/shm/left-behind', 'w').write('x')\n"
        "import subprocess\n"
        "subprocess.Popen(['/bin/sleep', '300'], start_new_session=True)"
    )
    find = estimator_doing(
        "import glob\n"
        "assert not os.path.exists('/tmp/left-behind'), 'a file in /tmp'\n"
        "assert not os.path.exists('/dev/shm/left-behind'), 'a file in /dev/shm'\n"
        "names = [open(p).read() for p in glob.glob('/proc/[0-9]*/cmdline')]\n"
        "assert not any('sleep' in n for n in names), 'a process: ' + repr(names)\n"
        "assert os.listdir('/job/input/submission') == ['estimator.py']\n"
        "assert 'Pop' + 'en' not in open('/job/input/submission/estimator.py').read()"
    )

    first, second = warm_pair(tmp_path, leave, find)

    assert first["ok"] is True, first["reason"]
    assert second["ok"] is True, second["reason"]


def test_a_later_job_finds_nothing_of_an_earlier_one_in_its_memory(tmp_path: Path) -> None:
    # The first job prints a token; the supervisor that read it has exited, and the
    # zygote that forks the next job never held it. The pattern cannot match itself.
    shout = estimator_doing("print('PPIPE-LEAK-' + os.urandom(16).hex())")
    scan = estimator_doing(
        "import re\n"
        "pattern = re.compile(rb'PPIPE-LEAK-[0-9a-f]{32}')\n"
        "found = []\n"
        "with open('/proc/self/maps') as maps, open('/proc/self/mem', 'rb', 0) as mem:\n"
        "    for line in maps:\n"
        "        fields = line.split()\n"
        "        if 'r' not in fields[1] or (len(fields) > 5 and fields[5] != '[heap]'):\n"
        "            continue\n"
        "        start, end = (int(x, 16) for x in fields[0].split('-'))\n"
        "        for at in range(start, end, 2**20):  # in pieces: regions can be large\n"
        "            try:\n"
        "                piece = os.pread(mem.fileno(), min(2**20 + 64, end - at), at)\n"
        "            except OSError:\n"
        "                continue\n"
        "            found += pattern.findall(piece)\n"
        "assert not found, found"
    )

    first, second = warm_pair(tmp_path, shout, scan)

    assert "PPIPE-LEAK-" in first["stdout_tail"]
    assert second["ok"] is True, second["reason"]


def _bound_below_tmp() -> list[str]:
    """What a job's /tmp may show: the first folder of a virtualenv below /tmp."""
    return sorted({p.split("/")[2] for p in (sys.prefix, sys.base_prefix) if p.startswith("/tmp/")})


def test_the_root_and_dev_are_read_only_and_tmp_hides_nothing(tmp_path: Path) -> None:
    for attempt in ("open('/filling-memory', 'w')", "open('/dev/filling-memory', 'w')"):
        result = judge(tmp_path, estimator_doing(attempt))
        assert "Read-only file system" in result["reason"], (attempt, result["reason"])
    reveal = estimator_doing(
        "import ctypes\n"
        "libc = ctypes.CDLL(None, use_errno=True)\n"
        "assert libc.umount2(b'/tmp', 2) != 0, 'unmounted /tmp'\n"
        f"assert sorted(os.listdir('/tmp')) == {_bound_below_tmp()!r}, os.listdir('/tmp')"
    )
    result = judge(tmp_path, reveal)
    assert result["ok"] is True, result["reason"]


def test_a_virtualenv_below_tmp_stays_visible_and_read_only_in_each_job() -> None:
    # A clone below /tmp, as CI or a student might make: this virtualenv, reached
    # through a path there, runs the judge.
    clone = Path(tempfile.mkdtemp(prefix="ppipe-clone-", dir="/tmp"))
    try:
        venv = clone / "venv"
        venv.symlink_to(sys.prefix)
        code = estimator_doing(
            "import sklearn.gaussian_process  # not imported ahead by the sandbox\n"
            f"assert os.listdir('/tmp') == [{clone.name!r}], os.listdir('/tmp')\n"
            "try:\n"
            f"    open({str(venv / 'planted')!r}, 'w')\n"
            "    raise AssertionError('wrote into the virtualenv')\n"
            "except OSError as error:\n"
            "    assert error.errno == 30, error  # EROFS"
        )
        run = (
            "import json, pathlib, sys\n"
            "from tests.judge_kits import judge\n"
            "result = judge(pathlib.Path(sys.argv[1]), sys.argv[2])\n"
            "print(json.dumps([result['ok'], result['reason']]))\n"
        )
        root = Path(__file__).resolve().parent.parent
        done = subprocess.run(
            [str(venv / "bin" / "python"), "-c", run, str(clone), code],
            cwd=root,
            capture_output=True,
            text=True,
            timeout=120 * patience(),
            check=False,
        )
        assert done.returncode == 0, done.stderr[-2000:]
        assert json.loads(done.stdout.splitlines()[-1]) == [True, ""]
    finally:
        shutil.rmtree(clone, ignore_errors=True)
