"""Mail is configured by the environment: with nothing set it goes to the
console, one line a mail (`make run` shows it in its log); EMAIL_HOST and friends send it through
an SMTP server; contradictory settings stop start-up naming them."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.settings_process import settings_process

SHOW = (
    "import json; from django.conf import settings as s; "
    "print(json.dumps({k: getattr(s, k) for k in ('EMAIL_BACKEND', 'EMAIL_HOST', "
    "'EMAIL_PORT', 'EMAIL_USE_TLS', 'DEFAULT_FROM_EMAIL')}))"
)


def settings_with(var_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return settings_process(
        SHOW, var_dir, inherit=lambda key: not key.startswith(("EMAIL_", "DEFAULT_FROM")), **env
    )


def test_with_nothing_set_mail_goes_to_the_console(tmp_path: Path) -> None:
    result = settings_with(tmp_path)

    assert result.returncode == 0, result.stderr
    assert (
        json.loads(result.stdout)["EMAIL_BACKEND"]
        == "notifications.console_mail.OneLineEmailBackend"
    )


def test_an_email_host_sends_through_smtp(tmp_path: Path) -> None:
    result = settings_with(
        tmp_path,
        EMAIL_HOST="smtp.school.example",
        EMAIL_PORT="587",
        EMAIL_USE_TLS="yes",
        DEFAULT_FROM_EMAIL="MLOps class <mlops@school.example>",
    )

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {
        "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
        "EMAIL_HOST": "smtp.school.example",
        "EMAIL_PORT": 587,
        "EMAIL_USE_TLS": True,
        "DEFAULT_FROM_EMAIL": "MLOps class <mlops@school.example>",
    }


def test_tls_and_ssl_together_stop_start_up(tmp_path: Path) -> None:
    result = settings_with(tmp_path, EMAIL_USE_TLS="1", EMAIL_USE_SSL="1")

    assert result.returncode != 0
    assert "EMAIL_USE_TLS" in result.stderr
