"""Typed readers for environment variables, for the control side's settings: the
remote workers' readers (worker_node/environ.py), failing as Django's
ImproperlyConfigured, plus what only the control side reads (credentials, keys)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured

from worker_node.environ import Environ, EnvironError
from worker_wing.network_policy import Network


class EnvError(ImproperlyConfigured):
    """An environment variable holds a value the platform cannot use."""


T = TypeVar("T")


def _read(reading: Callable[[Environ], T]) -> T:
    # The readers are the remote workers' (worker_node/environ.py): one parser for
    # both sides. Here their error is Django's ImproperlyConfigured, which stops
    # the process at start-up with the message.
    try:
        return reading(Environ(os.environ))
    except EnvironError as error:
        raise EnvError(str(error)) from None


def _raw(name: str) -> str | None:
    return Environ(os.environ).raw(name)


def env_str(name: str, default: str) -> str:
    return _read(lambda env: env.text(name, default))


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    return _read(lambda env: env.choice(name, default, choices))


def env_optional_str(name: str) -> str | None:
    return _raw(name)


def env_bool(name: str, default: bool) -> bool:
    return _read(lambda env: env.flag(name, default))


def env_int(
    name: str, default: int, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    return _read(lambda env: env.number(name, default, minimum=minimum, maximum=maximum))


def env_list(name: str, default: list[str]) -> list[str]:
    """A comma-separated list; empty items are dropped."""
    return _read(lambda env: env.items(name, default))


def env_path(name: str, default: Path) -> Path:
    return _read(lambda env: env.path(name, default))


def env_path_list(name: str, default: list[Path]) -> list[Path]:
    """Comma-separated absolute paths."""
    return _read(lambda env: env.paths(name, default))


def env_networks(name: str) -> list[Network]:
    """Comma- or space-separated CIDR ranges (none by default)."""
    return _read(lambda env: env.networks(name))


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
