"""Thin tasks: beat ticks and result recording on `control`, execution on `dispatch`."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from celery import shared_task
from django.conf import settings

from dispatch.jobs import shown
from ppipe_site.celery import RECORD_TASK_OPTIONS, app, discard_unstarted_task
from ppipe_site.task_adapter import job_outcome
from ppipe_site.worker_clocks import now_reported
from worker_wing.jobs import ReleaseJobMessage, release_failure
from worker_wing.worker_identity import worker_name

logger = logging.getLogger(__name__)


def _send(transaction_id: int, job: ReleaseJobMessage, lease: datetime) -> str:
    # No `expires`: the worker would compare it with its own clock (see
    # ppipe_site/worker_clocks.py). A copy that surfaces after the reaper took the
    # attempt back is revoked by the reaper instead.
    # Flower and the logs show the job with the remote's secrets redacted; the
    # message itself carries them.
    result = execute_transaction.apply_async(  # type: ignore[call-arg]  # stubs lack argsrepr
        args=(job,), argsrepr=repr((shown(job),))
    )
    return str(result.id)


def revoke_task(task_id: str) -> None:
    app.control.revoke(task_id, terminate=True, signal="SIGTERM")


@shared_task(name="dispatch.tasks.release_due_transactions")
def release_due_transactions() -> int:
    from dispatch.services import transactions_send_due

    return transactions_send_due(send=_send)


@shared_task(name="dispatch.tasks.reap_stuck_transactions")
def reap_stuck_transactions() -> int:
    from dispatch.services import transactions_reap

    return transactions_reap(discard=discard_unstarted_task)


@shared_task(
    name="dispatch.tasks.execute_transaction",
    # Re-running a release is harmless (same bytes to the same path, recorded once),
    # so a job whose worker died is handed out again rather than lost.
    acks_late=True,
    reject_on_worker_lost=True,
    soft_time_limit=settings.PPIPE_DISPATCH_TIME_LIMIT,
    time_limit=settings.PPIPE_DISPATCH_TIME_LIMIT + 10,
)
def execute_transaction(job: ReleaseJobMessage) -> dict[str, object]:
    from dispatch.worker_rclone import worker_rclone
    from ppipe_site.content_store import artifact_store
    from worker_wing.release.executor import execute_release_job

    worker = worker_name()
    record_transaction_started.delay(
        int(job.get("transaction_id") or 0), int(job.get("attempt") or 0), worker, now_reported()
    )
    result = job_outcome(
        lambda: execute_release_job(
            job,
            artifacts=artifact_store(),
            rclone=worker_rclone(timeout=settings.PPIPE_DISPATCH_TIME_LIMIT),
            local_roots=settings.PPIPE_LOCAL_DESTINATION_ROOTS,
        ),
        failed=lambda failure: release_failure(job, failure, worker=worker),
        worker=worker,
        time_limit_reason=f"the upload took longer than {settings.PPIPE_DISPATCH_TIME_LIMIT} s",
        what=f"release job {job.get('transaction_id')}",
    )
    record_transaction_result.delay(result)
    return {key: result.get(key) for key in ("transaction_id", "attempt", "ok", "error")}


@shared_task(name="dispatch.tasks.record_transaction_started", **RECORD_TASK_OPTIONS)
def record_transaction_started(
    transaction_id: int, attempt: int, worker: str, reported_at: str | None = None
) -> bool:
    from dispatch.services import transaction_mark_started

    return transaction_mark_started(
        transaction_id=transaction_id, attempt=attempt, worker=worker, reported_at=reported_at
    )


@shared_task(name="dispatch.tasks.record_transaction_result", **RECORD_TASK_OPTIONS)
def record_transaction_result(result: dict[str, Any]) -> str:
    from dispatch.services import transaction_record_result

    return transaction_record_result(result=result)
