"""PPIPE_SECRETS_KEYS is checked when the settings load: a malformed key stops the
process with a message naming the variable (and not the key). With nothing set, a
Fernet key is generated once into the var folder, readable by its owner only."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from cryptography.fernet import Fernet

from tests.settings_process import settings_process

SHOW_KEYS = (
    "import json; from django.conf import settings as s; print(json.dumps(s.PPIPE_SECRETS_KEYS))"
)


def run_settings(var_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return settings_process(
        SHOW_KEYS, var_dir, inherit=lambda key: key != "PPIPE_SECRETS_KEYS", **env
    )


def test_a_malformed_key_stops_start_up_naming_the_variable(tmp_path: Path) -> None:
    good = Fernet.generate_key().decode()

    result = run_settings(tmp_path, PPIPE_SECRETS_KEYS=f"{good},not-a-fernet-key")

    assert result.returncode != 0
    assert "PPIPE_SECRETS_KEYS (key 2 of 2) is not a Fernet key" in result.stderr
    assert "not-a-fernet-key" not in result.stderr


def test_nothing_set_means_one_generated_key_kept_in_the_var_folder(tmp_path: Path) -> None:
    first, again = run_settings(tmp_path), run_settings(tmp_path)

    assert first.returncode == 0, first.stderr
    assert first.stdout == again.stdout
    (key,) = json.loads(first.stdout)
    assert Fernet(key).decrypt(Fernet(key).encrypt(b"x")) == b"x"
    assert (tmp_path / "secrets_key").stat().st_mode & 0o077 == 0
