"""Settings as a fresh process reads them from its environment: how a deployment
starts, so the tests see what an operator's variables really do."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from tests.servers import patience


def settings_process(
    code: str, var_dir: Path, *, inherit: Callable[[str], bool], **env: str
) -> subprocess.CompletedProcess[str]:
    """Run `code` after django.setup(), with this process's variables that
    `inherit` keeps, the var folder and `env`."""
    kept = {key: value for key, value in os.environ.items() if inherit(key)}
    return subprocess.run(
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        env={
            **kept,
            "DJANGO_SETTINGS_MODULE": "ppipe_site.settings",
            "PPIPE_VAR_DIR": str(var_dir),
            **env,
        },
        capture_output=True,
        text=True,
        timeout=60 * patience(),
    )
