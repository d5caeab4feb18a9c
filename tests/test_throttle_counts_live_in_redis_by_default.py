"""The rate limits count in Redis wherever the platform runs: with nothing set
(`make run`) in the embedded Redis the broker uses, never in a per-process
memory cache; PPIPE_THROTTLE_REDIS_URL names another Redis."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.settings_process import settings_process

SHOW = (
    "import json; from django.conf import settings as s; print(json.dumps(s.CACHES['throttles']))"
)


def throttle_cache_with(var_dir: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return settings_process(
        SHOW,
        var_dir,
        inherit=lambda key: key != "CELERY_BROKER_URL" and not key.startswith("PPIPE_THROTTLE"),
        **env,
    )


def test_with_nothing_set_the_counts_are_in_the_embedded_redis(tmp_path: Path) -> None:
    result = throttle_cache_with(tmp_path)

    assert result.returncode == 0, result.stderr
    cache = json.loads(result.stdout.splitlines()[-1])
    assert cache["BACKEND"] == "foundation.shared_cache.ForgivingRedisCache"
    assert cache["LOCATION"] == f"unix://{tmp_path}/redis.sock"


def test_a_named_redis_is_used_for_the_counts(tmp_path: Path) -> None:
    result = throttle_cache_with(tmp_path, PPIPE_THROTTLE_REDIS_URL="redis://127.0.0.1:6379/9")

    assert result.returncode == 0, result.stderr
    cache = json.loads(result.stdout.splitlines()[-1])
    assert cache["BACKEND"] == "foundation.shared_cache.ForgivingRedisCache"
    assert cache["LOCATION"] == "redis://127.0.0.1:6379/9"
