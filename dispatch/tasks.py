"""Thin tasks: beat ticks and result recording on `control`. Jobs are executed on
`dispatch` by worker_node/tasks.py, sent there by name."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from celery import shared_task
from django.conf import settings

from dispatch.jobs import shown
from foundation.celery import RECORD_TASK_OPTIONS, app, discard_unstarted_task
from worker_node import names
from worker_wing.jobs import ReleaseJobMessage

logger = logging.getLogger(__name__)


def _send(jobs: list[ReleaseJobMessage], lease: datetime) -> str:
    # No `expires`: the worker would compare it with its own clock (see
    # foundation/worker_clocks.py). A copy that surfaces after the reaper took the
    # attempt back is revoked by the reaper instead.
    # Flower and the logs show the jobs with the remotes' secrets redacted; the
    # message itself carries them.
    # By name: the task lives on the remote workers (worker_node/tasks.py), with the
    # same time limits as the message carries.
    result = app.send_task(
        names.EXECUTE_TRANSACTION_BATCH,
        args=(jobs,),
        argsrepr=repr(([shown(job) for job in jobs],)),
        ignore_result=False,
        **names.dispatch_time_limits(settings.PPIPE_DISPATCH_TIME_LIMIT),
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


@shared_task(name="dispatch.tasks.record_transaction_started", **RECORD_TASK_OPTIONS)
def record_transaction_started(
    transaction_id: int, attempt: int, worker: str, reported_at: str | None = None
) -> bool:
    from dispatch.services import transaction_mark_started

    return transaction_mark_started(
        transaction_id=transaction_id, attempt=attempt, worker=worker, reported_at=reported_at
    )


@shared_task(name="dispatch.tasks.record_transactions_started", **RECORD_TASK_OPTIONS)
def record_transactions_started(
    started: list[list[int]], worker: str, reported_at: str | None = None
) -> int:
    from dispatch.services import transactions_mark_started

    return transactions_mark_started(
        started=[(int(tx), int(attempt)) for tx, attempt in started],
        worker=worker,
        reported_at=reported_at,
    )


@shared_task(name="dispatch.tasks.record_transaction_results", **RECORD_TASK_OPTIONS)
def record_transaction_results(results: list[dict[str, Any]]) -> dict[str, int]:
    from dispatch.services import transactions_record_results

    return transactions_record_results(results=results)


@shared_task(name="dispatch.tasks.record_transaction_result", **RECORD_TASK_OPTIONS)
def record_transaction_result(result: dict[str, Any]) -> str:
    from dispatch.services import transaction_record_result

    return transaction_record_result(result=result)
