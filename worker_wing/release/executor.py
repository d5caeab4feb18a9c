"""Executing one release job: materialise a slice of the training data, upload it
with rclone, verify it at the destination, and say what happened.

A job is a self-contained JSON object (see `ReleaseJob`); executing it touches no
database, so a dispatch worker needs only the broker and the artifact store, and
`manage.py run_transaction FILE.json` re-runs a job anywhere.
"""

from __future__ import annotations

import hashlib
import io
import socket
import tempfile
import time
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

from worker_wing.content_store import ContentStore
from worker_wing.jobs import (
    FailureKind,
    JobFailure,
    ReleaseJobMessage,
    ReleaseResult,
    release_failure,
)
from worker_wing.release.destination_addresses import DestinationUnreachable
from worker_wing.release.rclone import Rclone, RcloneError, RemoteObject
from worker_wing.release.remotes import Remote, RemoteError, check_local_root, check_path

JOB_KIND = "ppipe.release"
JOB_VERSION = 1
FORMATS = ("csv", "parquet", "jsonl")

# A release fails for the platform's or its destination's reasons, never a student's.
INFRA = FailureKind.INFRASTRUCTURE


class JobError(ValueError):
    """The job itself is wrong: running it again cannot succeed."""


@dataclass(frozen=True)
class ReleaseJob:
    transaction_id: int
    attempt: int
    source_sha256: str
    start: int
    stop: int
    format: str
    remote: Remote
    path: str

    @classmethod
    def parse(cls, job: ReleaseJobMessage) -> ReleaseJob:
        if job.get("kind") != JOB_KIND or job.get("version") != JOB_VERSION:
            raise JobError(f"not a release job of version {JOB_VERSION}: kind={job.get('kind')!r}")
        try:
            destination = job["destination"]
            parsed = cls(
                transaction_id=int(job["transaction_id"]),
                attempt=int(job.get("attempt", 0)),
                source_sha256=str(job["source"]["sha256"]),
                start=int(job["rows"]["start"]),
                stop=int(job["rows"]["stop"]),
                format=str(job["format"]),
                remote=Remote.from_job(destination["remote"]),
                path=check_path(str(destination["path"]), what="destination path"),
            )
        except (KeyError, TypeError) as error:
            raise JobError(f"the job is missing or has a malformed field: {error}") from None
        except RemoteError as error:
            raise JobError(str(error)) from None
        if parsed.format not in FORMATS:
            raise JobError(f"unknown format {parsed.format!r}; use one of {', '.join(FORMATS)}")
        if not 0 <= parsed.start < parsed.stop:
            raise JobError(f"empty or negative row range {parsed.start}..{parsed.stop}")
        return parsed


def serialise(frame: pd.DataFrame, fmt: str) -> bytes:
    if fmt == "csv":
        return frame.to_csv(index=False).encode()
    if fmt == "jsonl":
        return frame.to_json(orient="records", lines=True).encode()
    buffer = io.BytesIO()
    frame.to_parquet(buffer, index=False)
    return buffer.getvalue()


@lru_cache(maxsize=2)
def _source_frame(root: Path, digest: str) -> pd.DataFrame:
    # A dispatch worker serves many releases of the same challenge in a row:
    # decoding the training set once per process, not once per job, keeps the
    # per-job cost close to the upload itself.
    return ContentStore(root).read_frame(digest)


def release_file(source: pd.DataFrame, start: int, stop: int, fmt: str) -> bytes:
    """The bytes of a release's file: rows start..stop of the training set in `fmt`.
    The control side rebuilds a delivered release with it for a student's download,
    so the file downloaded is the file delivered, byte for byte (same sha256)."""
    return serialise(source.iloc[start:stop], fmt)


@lru_cache(maxsize=4)
def _payload(root: Path, digest: str, start: int, stop: int, fmt: str) -> bytes:
    # A release goes to every destination: the same bytes, serialised once.
    return release_file(_source_frame(root, digest), start, stop, fmt)


def execute_release_job(
    job: ReleaseJobMessage,
    *,
    artifacts: ContentStore,
    rclone: Rclone,
    local_roots: list[Path] | None,
) -> ReleaseResult:
    """Run one release job and return its result; never raises for a failed upload.

    `local_roots` limits where a local destination may write (None: anywhere,
    for an operator re-running a job by hand).
    """
    started = time.monotonic()
    try:
        return _upload(job, artifacts=artifacts, rclone=rclone, local_roots=local_roots)
    except JobFailure as failure:
        return release_failure(
            job,
            failure,
            worker=socket.gethostname(),
            duration_seconds=time.monotonic() - started,
        )


def _upload(
    job: ReleaseJobMessage,
    *,
    artifacts: ContentStore,
    rclone: Rclone,
    local_roots: list[Path] | None,
) -> ReleaseResult:
    started = time.monotonic()
    spec, payload = prepare_release(job, artifacts=artifacts, local_roots=local_roots)
    with tempfile.TemporaryDirectory(prefix="ppipe-release-") as folder:
        local = Path(folder) / Path(spec.path).name
        local.write_bytes(payload)
        try:
            rclone.copy_file(local, spec.remote, spec.path)
            seen = rclone.stat(spec.remote, spec.path)
        except (RcloneError, DestinationUnreachable, RemoteError) as error:
            raise upload_failure(error) from None
    return verified_result(spec, PayloadFacts.of(payload), seen, started=started)


def prepare_release(
    job: ReleaseJobMessage, *, artifacts: ContentStore, local_roots: list[Path] | None
) -> tuple[ReleaseJob, bytes]:
    """The job checked and its file's bytes, or the JobFailure that ends it before
    anything is sent."""
    try:
        spec = ReleaseJob.parse(job)
        if spec.remote.type == "local" and local_roots is not None:
            check_local_root(spec.path, local_roots)
        source = _source_frame(artifacts.root, spec.source_sha256)
    except (JobError, RemoteError) as error:
        raise JobFailure(str(error), transient=False, kind=INFRA) from None
    except FileNotFoundError:
        raise JobFailure(
            f"the training data {job['source']['sha256'][:12]}… is not in this worker's "
            "artifact store",
            transient=True,
            kind=INFRA,
        ) from None
    except ValueError as error:  # corrupt artifact
        raise JobFailure(str(error), transient=False, kind=INFRA) from None
    if spec.stop > len(source):
        raise JobFailure(
            f"rows {spec.start}..{spec.stop} exceed the {len(source)} training rows",
            transient=False,
            kind=INFRA,
        )
    return spec, _payload(artifacts.root, spec.source_sha256, spec.start, spec.stop, spec.format)


def _digests(payload: bytes) -> tuple[str, str]:
    md5 = hashlib.md5(payload, usedforsecurity=False).hexdigest()
    return md5, hashlib.sha256(payload).hexdigest()


def upload_failure(error: RcloneError | DestinationUnreachable | RemoteError) -> JobFailure:
    """An upload's error as the failure its teacher reads: a host that does not resolve
    now or rclone's trouble may pass; a remote the policy refuses will not."""
    if isinstance(error, RcloneError):
        return JobFailure(str(error), transient=error.transient, kind=INFRA)
    return JobFailure(str(error), transient=isinstance(error, DestinationUnreachable), kind=INFRA)


@dataclass(frozen=True)
class PayloadFacts:
    """What a file sent must be found as: kept instead of its bytes while a batch runs."""

    size: int
    md5: str
    sha256: str

    @classmethod
    def of(cls, payload: bytes) -> PayloadFacts:
        return cls(len(payload), *_digests(payload))


def verified_result(
    spec: ReleaseJob, sent: PayloadFacts, seen: RemoteObject, *, started: float
) -> ReleaseResult:
    """The success of a file the destination holds as sent (its size, and its md5 where
    the remote has one), or the JobFailure of one that differs."""
    if seen.size != sent.size or (seen.md5 is not None and seen.md5 != sent.md5):
        raise JobFailure(
            f"the destination holds {seen.size} bytes (md5 {seen.md5}) instead of "
            f"{sent.size} bytes (md5 {sent.md5})",
            transient=True,
            kind=INFRA,
        )
    return {
        "transaction_id": spec.transaction_id,
        "attempt": spec.attempt,
        "ok": True,
        "bytes": sent.size,
        "rows": spec.stop - spec.start,
        "md5": sent.md5,
        "sha256": sent.sha256,
        "verified": "size+md5" if seen.md5 else "size",
        "remote_path": spec.path,
        "duration_seconds": round(time.monotonic() - started, 3),
        "worker": socket.gethostname(),
    }
