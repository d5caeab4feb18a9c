"""The worker wing is what a remote worker runs: importing every module of it,
in a fresh interpreter, loads neither Django nor any of the control side's apps;
nor does the remote worker's app (worker_node), Celery and all."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from tests.servers import patience

CONTROL_SIDE = (
    "django", "rest_framework", "ppipe_site", "challenges", "dispatch", "judging",
    "probing", "receipts", "grades", "notifications", "retention",
)  # fmt: skip

IMPORT_A_PACKAGE = textwrap.dedent("""
    import importlib, json, pkgutil, sys
    package = importlib.import_module(sys.argv[1])
    names = [m.name for m in pkgutil.walk_packages(package.__path__, sys.argv[1] + ".")]
    for name in names:
        if not name.endswith(".__main__"):
            importlib.import_module(name)
    # A module set to None is one an import was refused (worker_node/celery.py).
    loaded = [name for name, module in sys.modules.items() if module is not None]
    print(json.dumps({"imported": names, "loaded": sorted(loaded)}))
""")


def _import_in_a_fresh_interpreter(package: str, **env: str) -> dict[str, list[str]]:
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_A_PACKAGE, package],
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": ".", **env},
        capture_output=True,
        text=True,
        timeout=120 * patience(),
        check=True,
    )
    report: dict[str, list[str]] = json.loads(done.stdout)
    return report


def test_importing_the_whole_wing_loads_nothing_of_the_control_side() -> None:
    report = _import_in_a_fresh_interpreter("worker_wing")

    assert "worker_wing.release.executor" in report["imported"]
    assert "worker_wing.probe.executor" in report["imported"]
    loaded = [name for name in report["loaded"] if name.split(".")[0] in CONTROL_SIDE]
    assert loaded == []


def test_the_remote_workers_app_loads_nothing_of_the_control_side() -> None:
    # Even with Django's settings named in the environment, as a host set up by
    # an operator used to the control side might have them.
    report = _import_in_a_fresh_interpreter(
        "worker_node", DJANGO_SETTINGS_MODULE="ppipe_site.settings"
    )

    assert "worker_node.tasks" in report["imported"]
    assert "celery" in report["loaded"]
    loaded = [name for name in report["loaded"] if name.split(".")[0] in CONTROL_SIDE]
    assert loaded == []
