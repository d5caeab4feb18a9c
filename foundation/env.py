"""Typed readers for environment variables.

Each helper fails loudly, naming the variable and what a valid value looks like,
so a typo in a deployment's environment stops the process at start-up instead of
running with a silently different configuration.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from worker_wing.network_policy import Network, parse_networks

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class EnvError(ImproperlyConfigured):
    """An environment variable holds a value the platform cannot use."""


def _raw(name: str) -> str | None:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return None
    return value.strip()


def env_str(name: str, default: str) -> str:
    value = _raw(name)
    return default if value is None else value


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env_str(name, default)
    if value not in choices:
        raise EnvError(f"{name}={value!r} is not one of: {', '.join(choices)}.")
    return value


def env_optional_str(name: str) -> str | None:
    return _raw(name)


def env_bool(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None:
        return default
    lowered = value.lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return False
    raise EnvError(
        f"{name}={value!r} is not a boolean: use one of 1/0, true/false, yes/no, on/off."
    )


def env_int(
    name: str, default: int, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    value = _raw(name)
    if value is None:
        return default
    try:
        number = int(value)
    except ValueError:
        raise EnvError(f"{name}={value!r} is not a whole number.") from None
    if minimum is not None and number < minimum:
        raise EnvError(f"{name}={number} is below the minimum of {minimum}.")
    if maximum is not None and number > maximum:
        raise EnvError(f"{name}={number} is above the maximum of {maximum}.")
    return number


def env_list(name: str, default: list[str]) -> list[str]:
    """A comma-separated list; empty items are dropped."""
    value = _raw(name)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def env_path(name: str, default: Path) -> Path:
    value = _raw(name)
    path = default if value is None else Path(value).expanduser()
    if not path.is_absolute():
        raise EnvError(f"{name}={str(path)!r} must be an absolute path.")
    return path


def env_path_list(name: str, default: list[Path]) -> list[Path]:
    """Comma-separated absolute paths."""
    value = _raw(name)
    if value is None:
        return list(default)
    paths = [Path(item.strip()).expanduser() for item in value.split(",") if item.strip()]
    relative = [str(path) for path in paths if not path.is_absolute()]
    if relative:
        raise EnvError(f"{name} must list absolute paths; these are not: {', '.join(relative)}.")
    return paths


def env_networks(name: str) -> list[Network]:
    """Comma- or space-separated CIDR ranges (none by default)."""
    try:
        return parse_networks(_raw(name) or "")
    except ValueError as error:
        raise EnvError(f"{name}: {error}.") from None


def env_credentials(name: str) -> tuple[str, str] | None:
    """A `user:password` pair, as Flower's --basic-auth takes it."""
    value = _raw(name)
    if value is None:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise EnvError(f"{name} must be 'user:password' with both parts non-empty.")
    return user, password


def fernet_key(value: str, *, source: str) -> str:
    """`value` as a Fernet key: 32 bytes in url-safe base64, its "=" padding optional
    (secrets.token_urlsafe, which makes the embedded key file, leaves it off). The
    message names `source` and never shows the value: a near-miss is still a secret."""
    key = value + "=" * (-len(value) % 4)
    try:
        Fernet(key)
    except ValueError:  # binascii.Error (bad base64) is a ValueError too
        raise EnvError(
            f"{source} is not a Fernet key (32 url-safe base64-encoded bytes): make one with "
            '`python -c "from cryptography.fernet import Fernet; '
            'print(Fernet.generate_key().decode())"`.'
        ) from None
    return key


def env_fernet_keys(name: str) -> list[str]:
    """Comma-separated Fernet keys, the first first; empty when the variable is unset."""
    keys = env_list(name, [])
    return [
        fernet_key(key, source=f"{name} (key {position} of {len(keys)})")
        for position, key in enumerate(keys, start=1)
    ]
