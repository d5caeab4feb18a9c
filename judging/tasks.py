"""Thin tasks: feeding, reaping and recording on `control`; judging on `judge`."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings

from ppipe_site.celery import RECORD_TASK_OPTIONS, app, discard_unstarted_task
from ppipe_site.worker_clocks import now_reported

logger = logging.getLogger(__name__)


def _send(submission_id: int, job: dict[str, Any], lease: datetime) -> str:
    # No `expires`: a worker would compare it with its own clock, and a judge host
    # whose clock is ahead would drop every job. A copy that surfaces after the
    # reaper took the job back is revoked by the reaper instead (discard_unstarted_task).
    limit = int(job["limits"]["wall_seconds"])
    result = execute_judge_job.apply_async(
        args=(job,), soft_time_limit=limit + 60, time_limit=limit + 90
    )
    return str(result.id)


def revoke_judge_task(task_id: str) -> None:
    # SIGTERM ends the pool process running the job; the sandbox dies with it
    # (bubblewrap's --die-with-parent), so a cancel stops the work within seconds.
    app.control.revoke(task_id, terminate=True, signal="SIGTERM")


@shared_task(name="judging.tasks.feed_judge_queue", ignore_result=True)
def feed_judge_queue() -> int:
    from judging.services import submissions_feed

    return submissions_feed(send=_send)


@shared_task(name="judging.tasks.reap_stuck_submissions")
def reap_stuck_submissions() -> int:
    from judging.services import submissions_reap

    return submissions_reap(discard=discard_unstarted_task)


@contextmanager
def _heartbeats(submission_id: int, attempt: int) -> Iterator[None]:
    """Tell the control side every few seconds that this run is alive."""
    stop = threading.Event()

    def beat() -> None:
        # A connection of its own: the task's thread owns the default producer.
        with app.connection_for_write() as connection:
            producer = app.amqp.Producer(connection)
            while not stop.wait(settings.PPIPE_JUDGE_HEARTBEAT_SECONDS):
                try:
                    record_submission_heartbeat.apply_async(
                        (submission_id, attempt), producer=producer
                    )
                except Exception:  # a lost beat only shortens the lease
                    logger.warning("heartbeat of submission %s not sent", submission_id)

    thread = threading.Thread(target=beat, name=f"heartbeat-{submission_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


@shared_task(name="judging.tasks.execute_judge_job")
def execute_judge_job(job: dict[str, Any]) -> dict[str, Any]:
    # Acknowledged on receipt: if this worker dies, the heartbeats stop and the
    # reaper judges the submission again (a bounded number of times). Redelivering
    # the message instead could loop forever on a job that kills its worker.
    from judging.executor import execute_judge_job as execute
    from judging.executor import failed_result
    from judging.sandbox import SandboxConfig
    from ppipe_site.content_store import artifact_store
    from ppipe_site.worker_identity import worker_name

    sandbox = SandboxConfig(
        mode=settings.PPIPE_SANDBOX,
        prewarm=settings.PPIPE_SANDBOX_PREWARM,
        bwrap=settings.PPIPE_BWRAP,
        tmpfs_mb=settings.PPIPE_SANDBOX_TMPFS_MB,
        jobs_per_sandbox=settings.PPIPE_SANDBOX_JOBS,
        work_root=str(settings.PPIPE_JUDGE_WORK_DIR),
    )
    submission_id, attempt = int(job.get("submission_id") or 0), int(job.get("attempt") or 0)
    worker = worker_name()
    record_submission_started.delay(submission_id, attempt, worker, now_reported())
    try:
        with _heartbeats(submission_id, attempt):
            result = execute(job, artifacts=artifact_store(), sandbox=sandbox)
    except SoftTimeLimitExceeded:
        result = failed_result(job, "the judge worker's own time limit ran out", transient=True)
    except Exception as error:
        # A bug of ours must still end as a reason, not as a submission stuck running.
        logger.exception("judge job of submission %s failed unexpectedly", submission_id)
        reason = f"internal error on {worker}: {type(error).__name__}: {error}"
        result = failed_result(job, reason, transient=True)
    record_judge_result.delay(result)
    return {key: result.get(key) for key in ("submission_id", "attempt", "ok", "reason")}


@shared_task(name="judging.tasks.record_submission_started", **RECORD_TASK_OPTIONS)
def record_submission_started(
    submission_id: int, attempt: int, worker: str, reported_at: str | None = None
) -> bool:
    from judging.services import submission_mark_started

    return submission_mark_started(
        submission_id=submission_id, attempt=attempt, worker=worker, reported_at=reported_at
    )


# No `expires` here either: the control side would compare it with its own clock,
# and every heartbeat of a judge host whose clock is behind would arrive expired.
@shared_task(name="judging.tasks.record_submission_heartbeat")
def record_submission_heartbeat(submission_id: int, attempt: int) -> bool:
    from judging.services import submission_heartbeat

    return submission_heartbeat(submission_id=submission_id, attempt=attempt)


@shared_task(name="judging.tasks.record_judge_result", **RECORD_TASK_OPTIONS)
def record_judge_result(result: dict[str, Any]) -> str:
    from judging.services import submission_record_result

    return submission_record_result(result=result)
