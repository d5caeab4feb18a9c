"""What a destination may say to rclone, checked before anything runs.

rclone is always called with an argument list (never through a shell), and the
remote is defined through RCLONE_CONFIG_* environment variables of the child
process, so secrets never appear on a command line. On top of that, every
backend type, option name, option value and path is checked against a strict
pattern here, so a value that would mean something to a shell or to rclone's
flag parser is refused with a message instead of being passed on.
This module imports nothing from Django: dispatch workers use it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path

# Backends a teacher may release to. Each is a real rclone backend type.
BACKEND_TYPES = ("local", "s3", "sftp", "webdav", "ftp", "azureblob", "b2", "swift")

# Options whose values are secrets: write-only in the admin and the API,
# redacted from every job shown or logged.
SECRET_OPTIONS = frozenset(
    {
        "secret_access_key",
        "session_token",
        "sse_customer_key",
        "pass",
        "key_pem",
        "key_file_pass",
        "bearer_token",
        "key",
        "sas_url",
        "client_secret",
        "account_key",
    }
)
# rclone expects these obscured (`rclone obscure`), not in plain text.
OBSCURED_OPTIONS = frozenset({"pass", "key_file_pass"})

_OPTION_NAME = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_PATH_SEGMENT = re.compile(r"^[A-Za-z0-9_.@+=,-]+$")
_REMOTE_NAME = "ppipedest"  # the only remote name that ever reaches rclone
REDACTED = "***"


class RemoteError(ValueError):
    """A destination setting that is not allowed; the message says which and why."""


def check_backend_type(value: str) -> str:
    if value not in BACKEND_TYPES:
        raise RemoteError(
            f"unknown destination type {value!r}; use one of: {', '.join(BACKEND_TYPES)}"
        )
    return value


def check_option_name(name: str) -> str:
    if not _OPTION_NAME.match(name):
        raise RemoteError(
            f"option name {name!r} is not an rclone option name (lower case letters, digits, _)"
        )
    return name


def check_option_value(name: str, value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if not isinstance(value, str):
        raise RemoteError(f"option {name!r} must be text, a number or true/false")
    if any(ord(char) < 32 or ord(char) == 127 for char in value):
        raise RemoteError(f"option {name!r} contains a control character (newline, tab, NUL…)")
    if len(value) > 4096:
        raise RemoteError(f"option {name!r} is longer than 4096 characters")
    return value


def check_path(path: str, *, what: str = "path") -> str:
    """A path on a remote: segments of letters, digits and `_ . @ + = , -`; no `..`.

    A leading `/` is kept (absolute local folders); empty segments are dropped.
    """
    absolute = path.startswith("/")
    segments = [segment for segment in path.split("/") if segment]
    for segment in segments:
        if segment in {".", ".."}:
            raise RemoteError(f"the {what} {path!r} may not contain '.' or '..' segments")
        if not _PATH_SEGMENT.match(segment):
            raise RemoteError(
                f"the {what} {path!r} has a character that is not allowed in {segment!r}: "
                "use letters, digits and _ . @ + = , -"
            )
    if segments and segments[0].startswith("-"):
        raise RemoteError(f"the {what} {path!r} may not start with '-'")
    return ("/" if absolute else "") + "/".join(segments)


def check_local_root(path: str, roots: list[Path]) -> str:
    """A local destination must lie below one of the allowed folders."""
    resolved = Path(path)
    if not resolved.is_absolute() or not any(resolved.is_relative_to(root) for root in roots):
        allowed = ", ".join(str(root) for root in roots) or "(none)"
        raise RemoteError(
            f"the local folder {path!r} is outside the folders releases may be written to: "
            f"{allowed} (an operator sets PPIPE_LOCAL_DESTINATION_ROOTS)"
        )
    return path


def join_path(*parts: str) -> str:
    absolute = parts[0].startswith("/") if parts else False
    joined = "/".join(part.strip("/") for part in parts if part.strip("/"))
    return ("/" if absolute else "") + joined


@dataclass(frozen=True)
class Remote:
    """An rclone remote, as a job carries it."""

    type: str
    options: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_job(cls, data: dict[str, object]) -> Remote:
        backend = check_backend_type(str(data.get("type", "")))
        raw = data.get("options") or {}
        if not isinstance(raw, dict):
            raise RemoteError("the remote's options must be an object")
        options = {check_option_name(str(k)): check_option_value(str(k), v) for k, v in raw.items()}
        return cls(type=backend, options=options)

    def as_job(self, *, reveal_secrets: bool) -> dict[str, object]:
        options = {
            name: (value if reveal_secrets or name not in SECRET_OPTIONS else REDACTED)
            for name, value in sorted(self.options.items())
        }
        return {"type": self.type, "options": options}

    def rc_fs(self, root: str) -> dict[str, str]:
        """The remote as rclone's remote-control API takes it: a config object.

        A secret redacted in an exported job is filled in from the operator's
        RCLONE_CONFIG_PPIPEDEST_<OPTION> variable (a job re-run by hand).
        """
        options = {}
        for name, value in self.options.items():
            if value == REDACTED:
                value = os.environ.get(f"RCLONE_CONFIG_{_REMOTE_NAME.upper()}_{name.upper()}", "")
                if not value:
                    raise RemoteError(
                        f"the secret option {name!r} is hidden in this job: set "
                        f"RCLONE_CONFIG_{_REMOTE_NAME.upper()}_{name.upper()} to provide it"
                    )
            options[name] = value
        return {"type": self.type, **options, "_root": root}

    def secrets(self) -> list[str]:
        return [value for name, value in self.options.items() if name in SECRET_OPTIONS and value]
