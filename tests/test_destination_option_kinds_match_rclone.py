"""The options that take a JSON true/false or number are exactly the allowed
options the real rclone parses as a switch, a whole number, a size or a
duration, backend by backend: a conversion never reaches a text option."""

from __future__ import annotations

import json
import subprocess

from tests.servers import VENV_BIN
from worker_wing.release.remotes import ALLOWED_OPTIONS, RemoteError, option_text

RCLONE_KINDS = {"bool": True, "Tristate": True, "int": 5, "SizeSuffix": 5, "Duration": 5}


def _takes(backend: str, name: str, value: bool | int) -> bool:
    try:
        option_text(backend, name, value)
    except RemoteError:
        return False
    return True


def test_every_allowed_option_converts_as_rclone_parses_it() -> None:
    completed = subprocess.run(
        [str(VENV_BIN / "rclone"), "config", "providers"], capture_output=True, check=True
    )
    backends = json.loads(completed.stdout)
    types = {b["Name"]: {o["Name"]: o["Type"] for o in b["Options"]} for b in backends}
    wrong = []
    for backend, names in ALLOWED_OPTIONS.items():
        for name in sorted(names):
            kind = types[backend][name]
            sample = RCLONE_KINDS.get(kind, 5)
            if _takes(backend, name, sample) != (kind in RCLONE_KINDS):
                wrong.append(f"{backend}.{name} ({kind})")
            if kind not in RCLONE_KINDS and _takes(backend, name, True):
                wrong.append(f"{backend}.{name} ({kind}) takes true")

    assert wrong == []
