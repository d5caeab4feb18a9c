"""The judge's sandboxes cannot write into the virtualenv, so every library they
import must have its bytecode there before the judge worker starts: `make run`
compiles those libraries in its `bytecode` step (ppipe_site/sandbox_bytecode.py)
and nothing else; a zygote that found a `.pyc` missing would compile that module
in memory again for every job."""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
from pathlib import Path

from ppipe_site.install_requirements import COMPILED_BY_THE_LAUNCHER
from ppipe_site.sandbox_bytecode import SANDBOX_PACKAGES, compile_sandbox_packages
from tests.judge_kits import estimator_doing, judge

REPOSITORY = Path(__file__).resolve().parent.parent
# The top-level names (package folder or module file) in site-packages of the
# modules a Python has loaded from source files there.
LOADED_FROM_SITE_PACKAGES = """
import json, sys, sysconfig
from pathlib import Path
site = Path(sysconfig.get_paths()["purelib"])
names = set()
for module in list(sys.modules.values()):
    path = Path(getattr(module, "__file__", None) or "/")
    if path.suffix == ".py" and site in path.parents:
        names.add(path.relative_to(site).parts[0])
print(json.dumps(sorted(names)))
"""
# What the zygote does before its first job: the runner's imports, then the warm-up.
AS_THE_ZYGOTE = (
    "import worker_wing.judge.sandbox_runner\n"
    "from worker_wing.judge.runner_warm import warm_up\n"
    "warm_up()\n"
)


def loaded_from_site_packages(code: str) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-c", code + LOADED_FROM_SITE_PACKAGES],
        cwd=REPOSITORY,
        capture_output=True,
        text=True,
        check=True,
    )
    return set(json.loads(result.stdout.splitlines()[-1]))


def test_every_library_the_zygote_imports_is_compiled_by_the_bytecode_step() -> None:
    # What any interpreter loads at its start (`.pth` hooks) the launcher's own
    # start compiles, before the step even begins.
    at_start = loaded_from_site_packages("")

    imported = loaded_from_site_packages(AS_THE_ZYGOTE) - at_start

    assert {"sklearn", "pandas", "numpy", "scipy"} <= imported  # the check checks
    assert imported <= set(SANDBOX_PACKAGES), "add these to SANDBOX_PACKAGES"


def test_what_make_runs_install_leaves_uncompiled_the_bytecode_step_compiles() -> None:
    assert set(COMPILED_BY_THE_LAUNCHER) <= set(SANDBOX_PACKAGES)


def test_the_step_compiles_those_libraries_and_leaves_the_rest_to_first_imports(
    tmp_path: Path,
) -> None:
    for name in ("sklearn/__init__.py", "sklearn/base.py", "sklearn/tests/test_base.py"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("VALUE = 1\n")
    (tmp_path / "six.py").write_text("VALUE = 1\n")
    (tmp_path / "django").mkdir()
    (tmp_path / "django" / "__init__.py").write_text("VALUE = 1\n")

    assert compile_sandbox_packages(tmp_path, workers=1)

    compiled = {path.relative_to(tmp_path).as_posix() for path in tmp_path.rglob("*.pyc")}
    tag = sys.implementation.cache_tag
    assert compiled == {
        f"sklearn/__pycache__/__init__.{tag}.pyc",
        f"sklearn/__pycache__/base.{tag}.pyc",
        f"__pycache__/six.{tag}.pyc",
    }


def test_a_sandboxed_job_finds_the_bytecode_of_every_library_it_loaded(tmp_path: Path) -> None:
    # Run inside the sandbox, by the student's code: every module loaded from the
    # virtualenv (by the zygote, then by this fold) came with its .pyc, valid for
    # its source, in a virtualenv the sandbox cannot write.
    site = sysconfig.get_paths()["purelib"]
    check = estimator_doing(
        "import importlib.util, os, sklearn.ensemble\n"
        f"site = {site!r}\n"
        "assert not os.access(site, os.W_OK), 'the sandbox can write the virtualenv'\n"
        "missing = []\n"
        "for module in list(sys.modules.values()):\n"
        "    source = getattr(module, '__file__', None) or ''\n"
        "    if not (source.startswith(site + '/') and source.endswith('.py')):\n"
        "        continue\n"
        "    cached = importlib.util.cache_from_source(source)\n"
        "    if not os.path.exists(cached):\n"
        "        missing.append(source)\n"
        "        continue\n"
        "    with open(cached, 'rb') as pyc:\n"
        "        header = pyc.read(16)\n"
        "    flags = int.from_bytes(header[4:8], 'little')\n"
        "    mtime = int.from_bytes(header[8:12], 'little')\n"
        "    # A timestamp .pyc records its source's mtime: a stale one is compiled again.\n"
        "    if flags == 0 and mtime != int(os.stat(source).st_mtime) & 0xFFFFFFFF:\n"
        "        missing.append(source + ' (stale)')\n"
        "assert not missing, f'{len(missing)} modules without bytecode: {missing[:5]}'\n"
    )

    result = judge(tmp_path, check)

    assert result["ok"] is True, result["reason"]
