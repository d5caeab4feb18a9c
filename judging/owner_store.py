"""A challenge's own judge store: the data owner's store, which their judge workers
read as their artifact store (PPIPE_ARTIFACT_DIR) instead of the platform's.

Before a job of such a challenge is sent, the control side copies its inputs
(the code, the training rows, the test features) there through rclone, each
once: an input already there with the right size is not copied again. The
hidden labels never go there; what comes back is only the job's result
(predictions and measurements), and the run's artifacts stay in the owner's store.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from dispatch.jobs import remote_for
from dispatch.models import Destination
from dispatch.worker_rclone import worker_rclone
from foundation.content_store import artifact_store
from worker_wing.jobs import JudgeJobMessage
from worker_wing.release.rclone import Rclone, RcloneError
from worker_wing.release.remotes import RemoteError, check_local_root, join_path


class JudgeStoreError(Exception):
    """The inputs could not be copied; the message names the store and the cause."""


def job_inputs(job: JudgeJobMessage) -> list[str]:
    """The digests a judge worker reads from its artifact store."""
    return [job["code"]["sha256"], job["data"]["train_sha256"], job["data"]["test_features_sha256"]]


def judge_store_stage(*, store: Destination, job: JudgeJobMessage) -> int:
    """Copy the job's inputs into the owner's store, laid out as a ContentStore
    (`<path>/<first two hex digits>/<sha256>`); returns how many were copied."""
    try:
        if store.type == "local":
            check_local_root(store.path, settings.PPIPE_LOCAL_DESTINATION_ROOTS)
        remote = remote_for(store, reveal_secrets=True)
    except RemoteError as error:
        raise JudgeStoreError(f"the judge store {store.name} is refused: {error}") from None
    source, rclone, copied = artifact_store(), worker_rclone(timeout=600), 0
    for digest in job_inputs(job):
        local = source.path_for(digest)
        target = join_path(store.path, digest[:2], digest)
        try:
            if _present(rclone, remote, target, local.stat().st_size):
                continue
            rclone.copy_file(local, remote, target)
            if not _present(rclone, remote, target, local.stat().st_size):
                raise RcloneError(f"{target} is not whole after the copy", transient=True)
        except (OSError, RcloneError, RemoteError) as error:
            raise JudgeStoreError(
                f"the job's inputs could not be copied to the judge store {store.name}: {error}"
            ) from None
        copied += 1
    return copied


def _present(rclone: Rclone, remote: Any, path: str, size: int) -> bool:
    try:
        return rclone.stat(remote, path).size == size
    except RcloneError:
        return False
