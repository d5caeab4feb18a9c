"""With nothing in the environment, settings fall back to the embedded defaults;
a bad value stops the process with a message naming the variable."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.settings_process import settings_process

SHOW_SETTINGS = (
    "import json; from django.conf import settings as s; "
    "print(json.dumps({'db': s.DATABASES['default'], 'broker': s.CELERY_BROKER_URL}, default=str))"
)
NAMED_BY_ENV = ("DATABASE_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "SECRET_KEY")


def run_settings(var_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return settings_process(
        SHOW_SETTINGS, var_dir, inherit=lambda key: key not in NAMED_BY_ENV, **env
    )


def test_nothing_set_means_sqlite_in_wal_mode_and_the_embedded_redis(tmp_path: Path) -> None:
    result = run_settings(tmp_path)

    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert shown["db"]["ENGINE"] == "django.db.backends.sqlite3"
    assert shown["db"]["NAME"] == str(tmp_path / "ppipe.sqlite3")
    assert "journal_mode=WAL" in shown["db"]["OPTIONS"]["init_command"]
    assert shown["broker"] == f"redis+socket://{tmp_path / 'redis.sock'}"
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0


def test_a_database_url_points_the_same_settings_at_postgresql(tmp_path: Path) -> None:
    result = run_settings(tmp_path, DATABASE_URL="postgres://ppipe:pw@db.internal:5433/ppipe")

    assert result.returncode == 0, result.stderr
    db = json.loads(result.stdout)["db"]
    assert (db["ENGINE"], db["HOST"], db["PORT"], db["NAME"]) == (
        "django.db.backends.postgresql",
        "db.internal",
        5433,
        "ppipe",
    )


def test_a_bad_value_stops_start_up_naming_the_variable(tmp_path: Path) -> None:
    result = run_settings(tmp_path, PPIPE_MAX_DATASET_MB="lots")

    assert result.returncode != 0
    assert "PPIPE_MAX_DATASET_MB='lots' is not a whole number" in result.stderr
