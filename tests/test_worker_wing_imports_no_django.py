"""The worker wing is what a remote worker runs: importing every module of it,
in a fresh interpreter, loads neither Django nor any of the control side's apps."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

CONTROL_SIDE = (
    "django", "rest_framework", "ppipe_site", "challenges", "dispatch", "judging",
    "probing", "receipts", "grades", "notifications",
)  # fmt: skip

IMPORT_THE_WING = textwrap.dedent("""
    import importlib, json, pkgutil, sys
    import worker_wing
    names = [m.name for m in pkgutil.walk_packages(worker_wing.__path__, "worker_wing.")]
    for name in names:
        importlib.import_module(name)
    print(json.dumps({"imported": names, "loaded": sorted(sys.modules)}))
""")


def test_importing_the_whole_wing_loads_nothing_of_the_control_side() -> None:
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_THE_WING],
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": "."},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    report = json.loads(done.stdout)

    assert "worker_wing.release.executor" in report["imported"]
    assert "worker_wing.probe.executor" in report["imported"]
    loaded = [name for name in report["loaded"] if name.split(".")[0] in CONTROL_SIDE]
    assert loaded == []
