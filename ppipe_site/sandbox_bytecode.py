"""Compile the bytecode of the libraries the judge's sandboxes import: a step of
`make run`'s first start (the launcher's `bytecode` step), which the judge worker
waits on.

Why: the sandboxed processes cannot write into the virtualenv, so a library they
import without its `.pyc` files is compiled again, in memory, by every job's
zygote (seconds of CPU for scikit-learn, scipy and pandas). The installer
compiles the rest of the virtualenv (ppipe_site/install_requirements.py) but
leaves scikit-learn and scipy to this step: since issue 22 nothing on the way to
/healthz imports them, so they compile beside the migrations and the static files
rather than before. The other sandbox libraries are compiled already by then, and
compileall only checks them (a second start checks all of them, in about a
second).

Run by path (`python ppipe_site/sandbox_bytecode.py`): the standard library only,
no Django, no Celery. It lowers its own priority first: the set-up steps on the
way to /healthz run beside it and should have the CPU.
"""

from __future__ import annotations

import compileall
import os
import re
import sys
import sysconfig
from pathlib import Path

# What the sandbox's runner imports (worker_wing/judge/sandbox_runner.py and its
# runner modules) and what those import in turn, by top-level package, with the
# libraries a student's estimator.py is expected to import (scikit-learn's whole
# package, pandas, numpy, scipy). tests/test_sandbox_libraries_have_bytecode.py
# checks the runner's imports are all here. (What every interpreter imports at its
# start, from `.pth` files, is compiled by the launcher's own start.)
SANDBOX_PACKAGES = (
    "sklearn",
    "scipy",
    "pandas",
    "numpy",
    "pyarrow",
    "narwhals",
    "joblib",
    "threadpoolctl.py",
    "cloudpickle",
    "dateutil",
    "pytz",
    "six.py",
    "tzdata",
    # Imported when installed (joblib's process pool imports psutil if it can).
    "psutil",
    "rich",
)
# The packages' own test suites: nothing imports them (a quarter of the files).
TESTS = re.compile(r"[/\\]tests?[/\\]")
# Below the set-up steps on the way to /healthz (nice 0), but only a little: beside
# other users' work at nice 0 (a busy machine), a lower priority would starve it,
# and the judge, the demo's four rows with it, would wait.
NICENESS = 5


def sandbox_package_paths(site_packages: Path) -> list[Path]:
    return [site_packages / name for name in SANDBOX_PACKAGES if (site_packages / name).exists()]


def compile_sandbox_packages(site_packages: Path, *, workers: int = 0) -> bool:
    """Compile what is missing or stale; True when every file compiled. A file that
    does not compile (a template or Python 2 file shipped in a package) stays
    source, as pip's own compiling leaves it: not a failure of the step."""
    compiled = True
    for path in sandbox_package_paths(site_packages):
        if path.is_file():
            compiled &= compileall.compile_file(path, quiet=2, rx=TESTS)
        else:
            compiled &= compileall.compile_dir(path, quiet=2, rx=TESTS, workers=workers)
    return compiled


def main() -> int:
    os.nice(NICENESS)
    compile_sandbox_packages(Path(sysconfig.get_paths()["purelib"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
