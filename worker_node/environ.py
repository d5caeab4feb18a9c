"""Typed readers for environment variables, shared by both sides: the control
side's settings (foundation/env.py) and a remote worker's (worker_node/settings.py)
read the same variables the same way. Django-free, so a worker needs no Django.

Each reader fails loudly, naming the variable and what a valid value looks like,
so a typo in a deployment's environment stops the process at start-up instead of
running with a silently different configuration.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from worker_wing.network_policy import Network, parse_networks

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class EnvironError(ValueError):
    """An environment variable holds a value the platform cannot use."""


@dataclass(frozen=True)
class Environ:
    values: Mapping[str, str]

    def raw(self, name: str) -> str | None:
        """The value, stripped; None when unset or blank."""
        value = self.values.get(name)
        return None if value is None or not value.strip() else value.strip()

    def text(self, name: str, default: str) -> str:
        value = self.raw(name)
        return default if value is None else value

    def choice(self, name: str, default: str, choices: tuple[str, ...]) -> str:
        value = self.text(name, default)
        if value not in choices:
            raise EnvironError(f"{name}={value!r} is not one of: {', '.join(choices)}.")
        return value

    def flag(self, name: str, default: bool) -> bool:
        value = self.raw(name)
        if value is None:
            return default
        if value.lower() in _TRUE | _FALSE:
            return value.lower() in _TRUE
        raise EnvironError(
            f"{name}={value!r} is not a boolean: use one of 1/0, true/false, yes/no, on/off."
        )

    def number(
        self, name: str, default: int, *, minimum: int | None = None, maximum: int | None = None
    ) -> int:
        value = self.raw(name)
        if value is None:
            return default
        try:
            number = int(value)
        except ValueError:
            raise EnvironError(f"{name}={value!r} is not a whole number.") from None
        if minimum is not None and number < minimum:
            raise EnvironError(f"{name}={number} is below the minimum of {minimum}.")
        if maximum is not None and number > maximum:
            raise EnvironError(f"{name}={number} is above the maximum of {maximum}.")
        return number

    def items(self, name: str, default: list[str]) -> list[str]:
        """A comma-separated list; empty items are dropped."""
        value = self.raw(name)
        if value is None:
            return list(default)
        return [item.strip() for item in value.split(",") if item.strip()]

    def path(self, name: str, default: Path) -> Path:
        value = self.raw(name)
        path = default if value is None else Path(value).expanduser()
        if not path.is_absolute():
            raise EnvironError(f"{name}={str(path)!r} must be an absolute path.")
        return path

    def paths(self, name: str, default: list[Path]) -> list[Path]:
        """Comma-separated absolute paths."""
        value = self.raw(name)
        if value is None:
            return list(default)
        paths = [Path(item.strip()).expanduser() for item in value.split(",") if item.strip()]
        relative = [str(path) for path in paths if not path.is_absolute()]
        if relative:
            raise EnvironError(
                f"{name} must list absolute paths; these are not: {', '.join(relative)}."
            )
        return paths

    def networks(self, name: str) -> list[Network]:
        """Comma- or space-separated CIDR ranges (none by default)."""
        try:
            return parse_networks(self.raw(name) or "")
        except ValueError as error:
            raise EnvironError(f"{name}: {error}.") from None
