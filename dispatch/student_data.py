"""A student's data section (reads): where their releases arrive and how to fetch
them, what was delivered to them so far, when the next release is due, and the
exact file of a delivered release for a download.

What a student sees of a destination is built from an allowlist of the options
that say where it is (endpoint, host, user…), never from the teacher's whole
configuration: secret options (keys, passwords) and credentials the teacher uses
(an access key id) stay out. A student brings their own credentials.
"""

from __future__ import annotations

import hashlib
import shlex
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath
from urllib.parse import urlsplit, urlunsplit

from django.db.models import Min, Q

from challenges.models import Participant
from dispatch.jobs import release_folder
from dispatch.models import ACTIVE_STATES, Destination, Transaction, TransactionState
from foundation.content_store import artifact_store
from worker_wing.release.executor import release_file
from worker_wing.release.remotes import SECRET_OPTIONS

# The options that locate a destination, per backend: all a student's rclone needs
# besides their own credentials. Anything not named here is never shown.
LOCATING_OPTIONS: dict[str, tuple[str, ...]] = {
    "local": (),
    "s3": ("provider", "endpoint", "region", "force_path_style", "v2_auth", "requester_pays"),
    "sftp": ("host", "port", "user", "shell_type", "md5sum_command", "sha1sum_command"),
    "webdav": ("url", "vendor", "user"),
    "ftp": ("host", "port", "user", "tls", "explicit_tls"),
    "azureblob": ("account", "endpoint"),
    "b2": ("endpoint",),
    "swift": ("auth", "auth_version", "region", "domain", "tenant", "endpoint_type"),
}
# What a student adds to the command: the names of rclone's flags, never a value.
CREDENTIALS: dict[str, str] = {
    "s3": "--s3-access-key-id and --s3-secret-access-key",
    "sftp": "--sftp-pass (obscured with `rclone obscure`) or --sftp-key-file",
    "webdav": "--webdav-pass (obscured with `rclone obscure`) or --webdav-bearer-token",
    "ftp": "--ftp-pass (obscured with `rclone obscure`)",
    "azureblob": "--azureblob-key or --azureblob-sas-url",
    "b2": "--b2-account and --b2-key",
    "swift": "--swift-user and --swift-key",
}
CONTENT_TYPES = {
    "csv": "text/csv",
    "jsonl": "application/x-ndjson",
    "parquet": "application/vnd.apache.parquet",
}
_PLAIN = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-/")


@dataclass(frozen=True)
class DestinationShown:
    kind: str
    address: str
    # An rclone command line; None for a local folder, read where it is.
    fetch_command: str | None
    credentials: str | None


@dataclass(frozen=True)
class DeliveredRelease:
    sequence: int
    rows: int
    delivered_at: datetime
    bytes: int | None
    sha256: str | None
    file_name: str


@dataclass(frozen=True)
class DataSection:
    destinations: list[DestinationShown]
    releases: list[DeliveredRelease]
    next_release_at: datetime | None
    downloads: bool

    @property
    def changing(self) -> bool:
        """A release is still on its way to this student: the section may change."""
        return self.next_release_at is not None


@dataclass(frozen=True)
class ReleaseFile:
    name: str
    content: bytes
    content_type: str
    sha256: str


class ReleaseNotRebuilt(Exception):
    """The delivered file cannot be rebuilt byte for byte here."""


def _without_userinfo(value: str) -> str:
    # A URL may carry a password (https://user:pass@host): never shown.
    parts = urlsplit(value)
    if "@" not in parts.netloc:
        return value
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def _shown_options(destination: Destination) -> dict[str, str]:
    secret = SECRET_OPTIONS | set(destination.secret_options)
    return {
        name: _without_userinfo(str(destination.options[name]))
        for name in LOCATING_OPTIONS.get(destination.type, ())
        if name in destination.options and name not in secret
    }


def _connection_value(value: str) -> str:
    # rclone's connection strings end a value at a comma or colon unless quoted,
    # with a quote inside doubled.
    if value and set(value) <= _PLAIN:
        return value
    return '"' + value.replace('"', '""') + '"'


def _address(kind: str, folder: str, options: dict[str, str]) -> str:
    user = f"{options['user']}@" if "user" in options else ""
    port = f":{options['port']}" if "port" in options else ""
    if kind in ("sftp", "ftp") and "host" in options:
        return f"{kind}://{user}{options['host']}{port}/{folder.lstrip('/')}"
    if kind == "webdav" and "url" in options:
        return f"{options['url'].rstrip('/')}/{folder.lstrip('/')}"
    if kind == "s3":
        endpoint = f" at {options['endpoint']}" if "endpoint" in options else ""
        return f"s3://{folder.lstrip('/')}{endpoint}"
    return folder if kind == "local" else f"{kind}:{folder}"


def destination_shown(destination: Destination, folder: str, local_name: str) -> DestinationShown:
    """A destination as a student sees it: kind, address and the command that
    copies its folder to `local_name`."""
    if destination.type == "local":
        return DestinationShown("local", folder, None, None)
    options = _shown_options(destination)
    remote = ",".join(
        [f":{destination.type}", *(f"{k}={_connection_value(v)}" for k, v in options.items())]
    )
    command = f"rclone copy {shlex.quote(f'{remote}:{folder}')} {shlex.quote(local_name)}"
    return DestinationShown(
        destination.type,
        _address(destination.type, folder, options),
        command,
        CREDENTIALS.get(destination.type),
    )


def _for(participant: Participant) -> Q:
    # Shared deliveries, and this student's own folder's: never a classmate's.
    return Q(participant=participant) | Q(participant__isnull=True)


def _delivered(participant: Participant) -> list[Transaction]:
    """Each release delivered to the student: its first finished upload."""
    rows = (
        Transaction.objects.filter(
            _for(participant),
            release__challenge_id=participant.challenge_id,
            state=TransactionState.DONE,
        )
        .select_related("release")
        .order_by("release__sequence", "finished_at", "id")
    )
    first: dict[int, Transaction] = {}
    for row in rows:
        first.setdefault(row.release.sequence, row)
    return list(first.values())


def _as_release(row: Transaction) -> DeliveredRelease:
    rows = row.job["rows"]
    # A worker's report records the time, bytes and digest; a transaction marked
    # done by other means (by hand, in a test) may lack them: shown as unknown.
    return DeliveredRelease(
        sequence=row.release.sequence,
        rows=int(rows["stop"]) - int(rows["start"]),
        delivered_at=row.finished_at or row.release.due_at,
        bytes=row.bytes,
        sha256=row.sha256 or None,
        file_name=PurePosixPath(row.remote_path).name,
    )


def data_section(participant: Participant) -> DataSection:
    challenge = participant.challenge
    plan = challenge.release_plan
    own = participant if plan.release_per_participant else None
    destinations = [
        destination_shown(destination, release_folder(destination, challenge, own), challenge.slug)
        for destination in plan.destinations.order_by("name")
    ]
    delivered = [_as_release(row) for row in _delivered(participant)]
    # The next release still on its way to them (planned, queued or running):
    # a release whose uploads all failed is not coming.
    next_due = (
        Transaction.objects.filter(
            _for(participant),
            release__challenge_id=challenge.pk,
            state__in=(TransactionState.PLANNED, *ACTIVE_STATES),
        )
        .exclude(release__sequence__in=[release.sequence for release in delivered])
        .aggregate(at=Min("release__due_at"))["at"]
    )
    return DataSection(destinations, delivered, next_due, plan.release_downloads)


def delivered_release_file(participant: Participant, sequence: int) -> ReleaseFile | None:
    """The file of release `sequence` exactly as it was delivered to this student,
    rebuilt from the training rows by the dispatch worker's own function; None when
    downloads are off or that release did not reach them."""
    challenge = participant.challenge
    if not challenge.release_plan.release_downloads:
        return None
    row = next((row for row in _delivered(participant) if row.release.sequence == sequence), None)
    if row is None:
        return None
    job = row.job
    # Only ever the training rows the challenge releases (never test rows), whatever
    # a stored job says.
    if job["source"]["sha256"] != challenge.split.train_sha256:
        return None
    fmt = str(job["format"])
    content = release_file(
        artifact_store().read_frame(challenge.split.train_sha256),
        int(job["rows"]["start"]),
        int(job["rows"]["stop"]),
        fmt,
    )
    digest = hashlib.sha256(content).hexdigest()
    if row.sha256 and digest != row.sha256:
        raise ReleaseNotRebuilt(
            f"release {sequence} cannot be rebuilt byte for byte here (sha256 {digest[:12]}… "
            f"instead of the delivered {row.sha256[:12]}…): fetch it from the destination."
        )
    name = PurePosixPath(row.remote_path).name
    return ReleaseFile(name, content, CONTENT_TYPES.get(fmt, "application/octet-stream"), digest)
