"""Executing a batch of release jobs: every file of the batch written once per
release, sent in one rclone call, each checked at its destination, and one result
per job.

A release to 200 student folders is 200 transactions: sent one by one, each
costs a broker round trip, two reports and two rclone calls. Sent as a batch,
the control side claims them together, the worker serialises the release's
bytes once and hands rclone every copy in one `job/batch` (and every check in
another), and reports once. Each job still stands alone where it matters: a job
that fails its checks, a path refused, a file refused or arriving wrong fails
only its own transaction; the others are recorded delivered, and a retry sends
only what failed.
"""

from __future__ import annotations

import socket
import tempfile
import time
from pathlib import Path

from worker_wing.content_store import ContentStore
from worker_wing.jobs import JobFailure, ReleaseJobMessage, ReleaseResult, release_failure
from worker_wing.release.executor import (
    PayloadFacts,
    ReleaseJob,
    prepare_release,
    upload_failure,
    verified_result,
)
from worker_wing.release.rclone import Rclone, RemoteObject, Upload

BATCH_KIND = "ppipe.release-batch"


def execute_release_batch(
    jobs: list[ReleaseJobMessage],
    *,
    artifacts: ContentStore,
    rclone: Rclone,
    local_roots: list[Path] | None,
) -> list[ReleaseResult]:
    """One result per job, in order; never raises for a failed upload."""
    started = time.monotonic()
    results: dict[int, ReleaseResult] = {}
    ready: dict[int, tuple[ReleaseJob, PayloadFacts]] = {}

    def fail(index: int, failure: JobFailure) -> None:
        results[index] = release_failure(
            jobs[index],
            failure,
            worker=socket.gethostname(),
            duration_seconds=time.monotonic() - started,
        )

    with tempfile.TemporaryDirectory(prefix="ppipe-release-") as folder:
        files = _Files(Path(folder))
        for index, job in enumerate(jobs):
            try:
                spec, payload = prepare_release(job, artifacts=artifacts, local_roots=local_roots)
            except JobFailure as failure:
                fail(index, failure)
                continue
            ready[index] = (spec, files.written(spec, payload))
        uploads = {
            index: Upload(source=files.path(spec), remote=spec.remote, path=spec.path)
            for index, (spec, _) in ready.items()
        }
        copied = rclone.copy_files(list(uploads.values()))
        for index, error in zip(uploads, copied, strict=True):
            if error is not None:
                fail(index, upload_failure(error))
        to_check = {index: upload for index, upload in uploads.items() if index not in results}
        seen = rclone.stat_files(list(to_check.values()))
    for index, found in zip(to_check, seen, strict=True):
        spec, sent = ready[index]
        try:
            if not isinstance(found, RemoteObject):
                raise upload_failure(found)
            results[index] = verified_result(spec, sent, found, started=started)
        except JobFailure as failure:
            fail(index, failure)
    return [results[index] for index in range(len(jobs))]


class _Files:
    """Each distinct file of a batch written once (a release bound for many folders
    shares one), and what it must be found as; its bytes are not kept in memory."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.paths: dict[tuple[str, int, int, str], Path] = {}
        self.facts: dict[tuple[str, int, int, str], PayloadFacts] = {}

    @staticmethod
    def _key(spec: ReleaseJob) -> tuple[str, int, int, str]:
        return (spec.source_sha256, spec.start, spec.stop, spec.format)

    def written(self, spec: ReleaseJob, payload: bytes) -> PayloadFacts:
        key = self._key(spec)
        if key not in self.paths:
            self.paths[key] = self.folder / f"{len(self.paths)}-{Path(spec.path).name}"
            self.paths[key].write_bytes(payload)
            self.facts[key] = PayloadFacts.of(payload)
        return self.facts[key]

    def path(self, spec: ReleaseJob) -> Path:
        return self.paths[self._key(spec)]
