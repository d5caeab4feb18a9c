"""`make run` installs with uv, which reads no pip configuration: the index, extra
indexes, find-links, constraints and certificate pip is configured with (files and
PIP_* variables, read through the real `pip config list`) become uv's flags, and
uv is told to pick each package's best version across indexes, as pip does."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ppipe_site.install_requirements import (
    pip_configuration,
    uv_arguments,
    uv_environment,
)


def test_pips_configuration_files_and_variables_become_uvs_flags(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "pip.conf"
    config.write_text(
        "[global]\n"
        "index-url = https://mirror.example.org/simple\n"
        "extra-index-url = file:///srv/a/simple file:///srv/b/simple\n"
        "constraint = /etc/caps.txt\n"
        "cert = /etc/ssl/local.pem\n"
    )
    monkeypatch.setenv("PIP_CONFIG_FILE", str(config))
    monkeypatch.setenv("PIP_FIND_LINKS", "/srv/wheels")

    settings = pip_configuration()
    arguments = uv_arguments(settings)

    pairs = list(zip(arguments[::2], arguments[1::2], strict=True))
    assert ("--index-strategy", "unsafe-best-match") in pairs
    assert ("--index-url", "https://mirror.example.org/simple") in pairs
    assert ("--extra-index-url", "file:///srv/a/simple") in pairs
    assert ("--extra-index-url", "file:///srv/b/simple") in pairs
    assert ("--find-links", "/srv/wheels") in pairs
    assert ("--constraint", "/etc/caps.txt") in pairs
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    assert uv_environment(settings)["SSL_CERT_FILE"] == "/etc/ssl/local.pem"


def test_the_script_runs_before_any_dependency_is_installed() -> None:
    # `make run` runs it with a bare virtualenv's Python: the standard library only.
    script = Path(__file__).parent.parent / "ppipe_site" / "install_requirements.py"
    result = subprocess.run(
        [sys.executable, "-I", "-S", str(script), "nothing"], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "usage:" in result.stderr
