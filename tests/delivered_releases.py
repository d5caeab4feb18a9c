"""Releases delivered for real for the data section's tests: the due transactions
are claimed as beat claims them, executed by the dispatch worker's executor with
real rclone to a local folder, and recorded as the control worker records them."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from datetime import timedelta
from pathlib import Path
from typing import Any

from django.utils import timezone

from challenges.models import Challenge
from dispatch.services import transaction_mark_started, transaction_record_result
from dispatch.services import transactions_send_due as send_due
from foundation.content_store import artifact_store
from tests.factories import ChallengeFactory, DestinationFactory
from worker_wing.release.executor import execute_release_job
from worker_wing.release.rclone import Rclone

Capture = Callable[..., AbstractContextManager[Any]]


def per_student_challenge(folder: Path, **fields: Any) -> Challenge:
    """Two releases to a folder per student: the first due now, the second in an hour."""
    challenge = ChallengeFactory(
        release_per_participant=True,
        release_format="parquet",
        release_proportions="2",
        release_interval_seconds=3600,
        first_release_at=timezone.now() - timedelta(seconds=1),
        **fields,
    )
    destination = DestinationFactory(owner=challenge.owner, path=str(folder))
    challenge.release_plan.destinations.set([destination])
    return challenge


def release_due_to(username: str, capture: Capture | None = None) -> None:
    """Deliver the due releases to this student; the others' stay queued (not
    delivered). In a test inside a transaction, `capture` is pytest-django's
    django_capture_on_commit_callbacks, which runs what waits for the commit."""

    def committing() -> AbstractContextManager[Any]:
        return capture(execute=True) if capture is not None else nullcontext()

    jobs: list[dict[str, Any]] = []

    def send(batch: list[dict[str, Any]], lease: Any) -> str:
        jobs.extend(batch)
        return f"task-{batch[0]['transaction_id']}"

    with committing():
        send_due(send=send)
    for job in jobs:
        if job["participant"] != username:
            continue
        assert transaction_mark_started(
            transaction_id=job["transaction_id"], attempt=job["attempt"], worker="test"
        )
        result = execute_release_job(
            job, artifacts=artifact_store(), rclone=Rclone(timeout=60), local_roots=None
        )
        assert result["ok"], result
        with committing():
            transaction_record_result(result=dict(result))
