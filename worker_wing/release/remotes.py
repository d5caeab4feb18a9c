"""What a destination may say to rclone, checked before anything runs.

rclone is always called with an argument list (never through a shell), and the
remote is passed as a JSON object to a private `rclone rcd`, so secrets never
appear on a command line. On top of that, a teacher is assumed hostile: every
backend has an allowlist of the options a teacher needs (endpoints, regions,
users, keys, TLS switches), and everything else is refused by name, above all
the options that would run a command on the worker (`*_command`, `ssh`), read
one of its files (`key_file`, `shared_credentials_file`…), use its own
credentials (`env_auth`, `key_use_agent`…), send requests somewhere other than
the destination (`headers`, proxies, `unix_socket`…) or change the backend
(`type`). The same checks run in the form, the API and again on the worker, so a
job built by hand is refused too.
This module imports nothing from Django: dispatch workers use it.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlsplit

from worker_wing.jobs import RemoteMessage

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
        "auth_token",
        "application_credential_secret",
        "sse_customer_key_base64",
    }
)
# rclone expects these obscured (`rclone obscure`), not in plain text.
OBSCURED_OPTIONS = frozenset({"pass", "key_file_pass"})

_COMMON = frozenset({"description", "encoding"})
# fmt: off
# The options a teacher may set, per backend (rclone 1.75's names). Anything else
# is refused: a new rclone option is closed until someone reads what it does.
ALLOWED_OPTIONS: dict[str, frozenset[str]] = {
    "local": _COMMON | {"no_preallocate", "no_sparse", "no_set_modtime"},
    "s3": _COMMON
    | {
        "provider", "access_key_id", "secret_access_key", "session_token", "region",
        "endpoint", "location_constraint", "acl", "bucket_acl", "requester_pays",
        "server_side_encryption", "sse_kms_key_id", "sse_customer_algorithm",
        "sse_customer_key", "sse_customer_key_base64", "sse_customer_key_md5",
        "storage_class", "upload_cutoff", "chunk_size", "max_upload_parts", "copy_cutoff",
        "disable_checksum", "upload_concurrency", "force_path_style", "v2_auth",
        "use_dual_stack", "use_accelerate_endpoint", "leave_parts_on_error", "list_chunk",
        "list_version", "list_url_encode", "no_check_bucket", "no_head", "no_head_object",
        "disable_http2", "directory_markers", "use_multipart_etag", "use_unsigned_payload",
        "use_presigned_request", "use_already_exists", "use_multipart_uploads", "use_x_id",
        "sign_accept_encoding", "directory_bucket", "no_system_metadata",
    },
    "sftp": _COMMON
    | {
        "host", "user", "port", "pass", "key_pem", "key_file_pass", "pubkey", "host_keys",
        "pin_host_key", "use_insecure_cipher", "disable_hashcheck", "shell_type",
        "md5sum_command", "sha1sum_command", "set_modtime", "hashes", "skip_links",
        "use_fstat", "disable_concurrent_reads", "disable_concurrent_writes", "idle_timeout",
        "chunk_size", "concurrency", "connections", "ciphers", "key_exchange", "macs",
        "host_key_algorithms", "copy_is_hardlink",
    },
    "webdav": _COMMON
    | {
        "url", "vendor", "user", "pass", "bearer_token", "pacer_min_sleep",
        "nextcloud_chunk_size", "owncloud_exclude_shares", "owncloud_exclude_mounts",
    },
    "ftp": _COMMON
    | {
        "host", "user", "port", "pass", "tls", "explicit_tls", "concurrency",
        "no_check_certificate", "disable_epsv", "disable_mlsd", "disable_utf8",
        "writing_mdtm", "force_list_hidden", "idle_timeout", "close_timeout",
        "tls_cache_size", "disable_tls13", "shut_timeout", "no_check_upload",
    },
    "azureblob": _COMMON
    | {
        "account", "key", "sas_url", "tenant", "client_id", "client_secret", "endpoint",
        "upload_cutoff", "chunk_size", "upload_concurrency", "copy_cutoff", "copy_concurrency",
        "list_chunk", "access_tier", "archive_tier_delete", "disable_checksum",
        "public_access", "directory_markers", "no_check_container", "no_head_object",
    },
    "b2": _COMMON
    | {
        "account", "key", "endpoint", "hard_delete", "upload_cutoff", "copy_cutoff",
        "chunk_size", "upload_concurrency", "disable_checksum", "lifecycle",
        "sse_customer_algorithm", "sse_customer_key", "sse_customer_key_base64",
        "sse_customer_key_md5",
    },
    "swift": _COMMON
    | {
        "user", "key", "auth", "user_id", "domain", "tenant", "tenant_id", "tenant_domain",
        "region", "storage_url", "auth_token", "application_credential_id",
        "application_credential_name", "application_credential_secret", "auth_version",
        "endpoint_type", "storage_policy", "chunk_size", "no_chunk", "no_large_objects",
        "leave_parts_on_error",
    },
}
# fmt: on
# Allowed options that run something on the remote server (over SSH, never on the
# worker): only these fixed values, which name the usual programs.
FIXED_VALUES: dict[str, frozenset[str]] = {
    "md5sum_command": frozenset({"md5sum", "md5 -r", "none"}),
    "sha1sum_command": frozenset({"sha1sum", "sha1 -r", "none"}),
    "shell_type": frozenset({"unix", "powershell", "cmd", "none"}),
}
# What rclone parses the non-text options as (rclone 1.75's `config providers`:
# bool and Tristate, int, SizeSuffix, Duration). A JSON true/false or number is
# turned into the text rclone reads only for these; every other option is text,
# where a bare `true` or `5` is more likely a slip than a meaning.
# fmt: off
BOOLEAN_OPTIONS = frozenset({
    "archive_tier_delete", "copy_is_hardlink", "directory_bucket", "directory_markers",
    "disable_checksum", "disable_concurrent_reads", "disable_concurrent_writes", "disable_epsv",
    "disable_hashcheck", "disable_http2", "disable_mlsd", "disable_tls13", "disable_utf8",
    "explicit_tls", "force_list_hidden", "force_path_style", "hard_delete",
    "leave_parts_on_error", "list_url_encode", "no_check_bucket", "no_check_certificate",
    "no_check_container", "no_check_upload", "no_chunk", "no_head", "no_head_object",
    "no_large_objects", "no_preallocate", "no_set_modtime", "no_sparse", "no_system_metadata",
    "owncloud_exclude_mounts", "owncloud_exclude_shares", "pin_host_key", "requester_pays",
    "set_modtime", "sign_accept_encoding", "skip_links", "tls", "use_accelerate_endpoint",
    "use_already_exists", "use_dual_stack", "use_fstat", "use_insecure_cipher",
    "use_multipart_etag", "use_multipart_uploads", "use_presigned_request",
    "use_unsigned_payload", "use_x_id", "v2_auth", "writing_mdtm",
})
WHOLE_NUMBER_OPTIONS = frozenset({
    "auth_version", "concurrency", "connections", "copy_concurrency", "lifecycle", "list_chunk",
    "list_version", "max_upload_parts", "port", "tls_cache_size", "upload_concurrency",
})
# rclone reads a bare number as KiB for a size and as seconds for a duration.
SIZE_OPTIONS = frozenset({"chunk_size", "copy_cutoff", "nextcloud_chunk_size", "upload_cutoff"})
DURATION_OPTIONS = frozenset({"close_timeout", "idle_timeout", "pacer_min_sleep", "shut_timeout"})
# fmt: on
# Where a backend's option of a shared name is plain text after all.
TEXT_ONLY: dict[str, frozenset[str]] = {"azureblob": frozenset({"upload_cutoff"})}
# Options naming a host the worker connects to: checked against the address
# policy on the worker, after DNS (worker_wing/network_policy.py).
HOST_OPTIONS: dict[str, tuple[str, ...]] = {
    "s3": ("endpoint",),
    "sftp": ("host",),
    "webdav": ("url",),
    "ftp": ("host",),
    "azureblob": ("endpoint",),
    "b2": ("endpoint",),
    "swift": ("auth", "storage_url"),
}
_DEFAULT_PORTS = {"sftp": 22, "ftp": 21, "http": 80, "https": 443}
# Why the most dangerous options are refused, for a message that says so.
# fmt: off
_REFUSED_BECAUSE = {
    "runs a command on the worker": ("ssh", "server_command", "subsystem"),
    "reads a file on the worker": (
        "key_file", "pubkey_file", "known_hosts_file", "shared_credentials_file",
        "service_principal_file", "client_certificate_path", "config",
    ),
    "uses the worker's own credentials": (
        "env_auth", "key_use_agent", "use_msi", "msi_object_id", "msi_client_id",
        "msi_mi_res_id", "use_az", "profile", "role_arn", "ask_password",
    ),
    "sends requests somewhere other than the destination": (
        "headers", "http_proxy", "socks_proxy", "unix_socket", "sts_endpoint",
        "download_url", "ibm_iam_endpoint", "auth_redirect", "set_env",
    ),
    "changes the backend": ("type", "provider_override", "path_override"),
}
# fmt: on

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


OptionValue = str | bool | int | float


def check_option_value(name: str, value: object) -> OptionValue:
    """A value as given (text, or a JSON true/false or number), checked for its shape;
    which options take a true/false or a number is check_option's business."""
    if isinstance(value, bool | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise RemoteError(f"option {name!r} must be a finite number, not {value!r}")
        return value
    if not isinstance(value, str):
        given = "null" if value is None else "a list" if isinstance(value, list) else "an object"
        raise RemoteError(
            f"option {name!r} must be text, a number or true/false, not {given}: "
            "rclone options are single values"
        )
    if any(ord(char) < 32 or ord(char) == 127 for char in value):
        raise RemoteError(f"option {name!r} contains a control character (newline, tab, NUL…)")
    if len(value) > 4096:
        raise RemoteError(f"option {name!r} is longer than 4096 characters")
    return value


def _kind(backend: str, name: str) -> str:
    if name in TEXT_ONLY.get(backend, frozenset()):
        return "text"
    for kind, names in (
        ("true/false", BOOLEAN_OPTIONS),
        ("a whole number", WHOLE_NUMBER_OPTIONS),
        ("a size (a bare number is KiB)", SIZE_OPTIONS),
        ("a duration (a bare number is seconds)", DURATION_OPTIONS),
    ):
        if name in names:
            return kind
    return "text"


def option_text(backend: str, name: str, value: OptionValue) -> str:
    """The text rclone reads for a value: true/false and numbers only where the option
    takes one ("true"/"false", plain decimals); RemoteError says what it takes."""
    if isinstance(value, str):
        return value
    kind = _kind(backend, name)
    if isinstance(value, bool):
        if kind == "true/false":
            return "true" if value else "false"
    elif kind == "a whole number" and float(value).is_integer():
        return str(int(value))
    elif kind.startswith(("a size", "a duration")):
        # Plain decimals: rclone does not read an exponent (1e-05).
        return format(Decimal(repr(value)), "f")
    given = json.dumps(value)
    if kind == "text":
        given += f" (write {json.dumps(given)}, in quotes, if you mean the text)"
    raise RemoteError(f"the option {name!r} takes {kind}, not {given}")


def _refused_because(name: str) -> str:
    if name.endswith("_command") and name not in FIXED_VALUES:
        return "runs a command on the worker"
    return next((why for why, names in _REFUSED_BECAUSE.items() if name in names), "")


def check_option(backend: str, name: str, value: object) -> str:
    """One option of a `backend` destination, as rclone will get it; RemoteError says why not."""
    check_option_name(name)
    why = _refused_because(name)
    if why:
        raise RemoteError(f"the option {name!r} is not allowed on a destination: it {why}")
    allowed = ALLOWED_OPTIONS[check_backend_type(backend)]
    if name not in allowed:
        raise RemoteError(
            f"the option {name!r} is not one a {backend} destination may set; "
            f"use one of: {', '.join(sorted(allowed))}"
        )
    text = option_text(backend, name, check_option_value(name, value))
    if name in FIXED_VALUES and text not in FIXED_VALUES[name]:
        choices = ", ".join(sorted(FIXED_VALUES[name]))
        raise RemoteError(f"the option {name!r} may only be one of: {choices}")
    return text


def check_options(backend: str, options: dict[str, object]) -> dict[str, str]:
    return {str(name): check_option(backend, str(name), value) for name, value in options.items()}


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
    """A local destination must lie below one of the allowed folders.

    Compared after resolving symbolic links: a link a student placed in a shared
    folder must not carry a release (written by the worker) somewhere else.
    """
    resolved = Path(os.path.realpath(path))
    real_roots = [Path(os.path.realpath(root)) for root in roots]
    if not Path(path).is_absolute() or not any(resolved.is_relative_to(r) for r in real_roots):
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
    def from_job(cls, data: Mapping[str, object]) -> Remote:
        backend = check_backend_type(str(data.get("type", "")))
        raw = data.get("options") or {}
        if not isinstance(raw, dict):
            raise RemoteError("the remote's options must be an object")
        return cls(type=backend, options=check_options(backend, raw))

    def as_job(self, *, reveal_secrets: bool) -> RemoteMessage:
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
        # Checked again here, the one way into rclone: a Remote built in code
        # (not parsed from a job) gets the same allowlist.
        for name, value in check_options(self.type, dict(self.options)).items():
            if value == REDACTED:
                value = os.environ.get(f"RCLONE_CONFIG_{_REMOTE_NAME.upper()}_{name.upper()}", "")
                if not value:
                    raise RemoteError(
                        f"the secret option {name!r} is hidden in this job: set "
                        f"RCLONE_CONFIG_{_REMOTE_NAME.upper()}_{name.upper()} to provide it"
                    )
            options[name] = value
        return {**options, "type": self.type, "_root": root}

    def secrets(self) -> list[str]:
        return [value for name, value in self.options.items() if name in SECRET_OPTIONS and value]

    def hosts(self) -> list[tuple[str, str, int]]:
        """(option, host, port) of every host this remote makes the worker connect to."""
        found = []
        for name in HOST_OPTIONS.get(self.type, ()):
            value = self.options.get(name, "").strip()
            if not value:
                continue
            if self.type in ("sftp", "ftp"):
                port = self.options.get("port") or _DEFAULT_PORTS[self.type]
                found.append((name, value, _port(port, name)))
                continue
            try:
                parts = urlsplit(value if "://" in value else f"https://{value}")
                explicit_port = parts.port
            except ValueError:
                explicit_port, parts = None, urlsplit("")
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise RemoteError(f"the option {name!r} must be an http(s) URL or a host name")
            found.append(
                (name, parts.hostname, _port(explicit_port or _DEFAULT_PORTS[parts.scheme], name))
            )
        return found

    def with_option(self, name: str, value: str) -> Remote:
        return Remote(type=self.type, options={**self.options, name: value})


def _port(value: object, name: str) -> int:
    try:
        port = int(str(value))
    except ValueError:
        port = 0
    if not 0 < port < 65536:
        raise RemoteError(f"the port of {name!r} must be a number from 1 to 65535")
    return port
