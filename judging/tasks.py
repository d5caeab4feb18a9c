"""Thin tasks: feeding, reaping and recording on `control`; judging on `judge`."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from celery import shared_task
from celery.utils.nodenames import worker_direct
from django.conf import settings

from ppipe_site.celery import RECORD_TASK_OPTIONS, app, discard_unstarted_task
from ppipe_site.task_adapter import job_outcome
from ppipe_site.worker_clocks import now_reported
from worker_wing.jobs import JudgeJobMessage, JudgeResult, judge_failure

if TYPE_CHECKING:
    from worker_wing.judge.sandbox import SandboxConfig

logger = logging.getLogger(__name__)


def _send(submission_id: int, job: JudgeJobMessage, lease: datetime) -> str:
    # No `expires`: a worker would compare it with its own clock, and a judge host
    # whose clock is ahead would drop every job. A copy that surfaces after the
    # reaper took the job back is revoked by the reaper instead (discard_unstarted_task).
    limit = int(job["limits"]["wall_seconds"])
    result = execute_judge_job.apply_async(
        args=(job,),
        # A challenge with a queue of its own is judged only by that queue's workers.
        queue=job.get("queue") or "judge",
        soft_time_limit=limit + 60,
        time_limit=limit + 90,
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
    from judging.reproduction import reproductions_reap
    from judging.services import submissions_reap

    reaped = submissions_reap(discard=discard_unstarted_task)
    return reaped + reproductions_reap(discard=discard_unstarted_task)


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


def _sandbox_config() -> SandboxConfig:
    from worker_wing.judge.sandbox import SandboxConfig

    return SandboxConfig(
        mode=settings.PPIPE_SANDBOX,
        prewarm=settings.PPIPE_SANDBOX_PREWARM,
        bwrap=settings.PPIPE_BWRAP,
        tmpfs_mb=settings.PPIPE_SANDBOX_TMPFS_MB,
        jobs_per_sandbox=settings.PPIPE_SANDBOX_JOBS,
        work_root=str(settings.PPIPE_JUDGE_WORK_DIR),
        user=settings.PPIPE_SANDBOX_USER,
        cgroup_root=settings.PPIPE_CGROUP_ROOT,
    )


@shared_task(name="judging.tasks.execute_judge_job")
def execute_judge_job(job: JudgeJobMessage) -> dict[str, object]:
    # Acknowledged on receipt: if this worker dies, the heartbeats stop and the
    # reaper judges the submission again (a bounded number of times). Redelivering
    # the message instead could loop forever on a job that kills its worker.
    from ppipe_site.content_store import artifact_store
    from worker_wing.judge.executor import execute_judge_job as execute
    from worker_wing.worker_identity import worker_name

    sandbox = _sandbox_config()
    submission_id, attempt = int(job.get("submission_id") or 0), int(job.get("attempt") or 0)
    worker = worker_name()
    record_submission_started.delay(submission_id, attempt, worker, now_reported())

    def run() -> JudgeResult:
        with _heartbeats(submission_id, attempt):
            return execute(job, artifacts=artifact_store(), sandbox=sandbox)

    result = job_outcome(
        run,
        failed=lambda failure: judge_failure(job, failure),
        worker=worker,
        time_limit_reason="the judge worker's own time limit ran out",
        what=f"judge job of submission {submission_id}",
    )
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


# --- reproductions ------------------------------------------------------------
def live_judge_workers(queue: str) -> list[str]:
    """Workers of this judge queue that answer now and consume a queue of their own
    (a worker without one, e.g. of an older version, could not be sent a job directly)."""
    from ppipe_site.worker_pools import live_workers_by_queue

    live = live_workers_by_queue(fresh=True) or {}
    return [node for node in live.get(queue, []) if node in live.get(worker_direct(node).name, [])]


def _send_reproduction_job(job: dict[str, Any], node: str | None) -> str:
    from judging.reproduction import job_queue

    # To the chosen worker's own queue, or with none the job's judge queue.
    limit = int(job["limits"]["wall_seconds"])
    result = execute_reproduction_job.apply_async(
        args=(job,),
        queue=worker_direct(node) if node else job_queue(job),
        soft_time_limit=limit + 60,
        time_limit=limit + 90,
    )
    return str(result.id)


@shared_task(name="judging.tasks.send_reproduction", **RECORD_TASK_OPTIONS)
def send_reproduction(reproduction_id: int) -> str:
    from judging.reproduction import reproduction_send

    return reproduction_send(
        reproduction_id=reproduction_id,
        live_judges=live_judge_workers,
        send=_send_reproduction_job,
    )


@shared_task(name="judging.tasks.execute_reproduction_job")
def execute_reproduction_job(job: JudgeJobMessage) -> dict[str, object]:
    # The same executor as the original run; none of the submission's own record
    # tasks: a reproduction reports to its own, and leaves the submission as judged.
    from ppipe_site.content_store import artifact_store
    from worker_wing.judge.executor import execute_judge_job as execute
    from worker_wing.worker_identity import worker_name

    reproduction_id = int(job["reproduction_id"])
    worker = worker_name()
    record_reproduction_started.delay(reproduction_id, worker)
    result = job_outcome(
        lambda: execute(job, artifacts=artifact_store(), sandbox=_sandbox_config()),
        failed=lambda failure: judge_failure(job, failure),
        worker=worker,
        time_limit_reason="the judge worker's own time limit ran out",
        what=f"reproduction {reproduction_id}",
    )
    record_reproduction_result.delay({**result, "reproduction_id": reproduction_id})
    return {"reproduction_id": reproduction_id, "ok": result.get("ok"), "worker": worker}


@shared_task(name="judging.tasks.record_reproduction_started", **RECORD_TASK_OPTIONS)
def record_reproduction_started(reproduction_id: int, worker: str) -> bool:
    from judging.reproduction import reproduction_mark_started

    return reproduction_mark_started(reproduction_id=reproduction_id, worker=worker)


@shared_task(name="judging.tasks.record_reproduction_result", **RECORD_TASK_OPTIONS)
def record_reproduction_result(result: dict[str, Any]) -> str:
    from judging.reproduction import reproduction_record_result

    return reproduction_record_result(result=result)


# --- contributivity -------------------------------------------------------------
# Control work: the computation's claim is a lease, so a message lost or a worker
# that died mid-way is caught by beat's tick (contributivity_refresh).
@shared_task(name="judging.tasks.compute_contributivity", ignore_result=True)
def compute_contributivity(challenge_id: int) -> str:
    from judging.contributivity import contributivity_compute

    return contributivity_compute(challenge_id=challenge_id)


@shared_task(name="judging.tasks.refresh_contributivity", ignore_result=True)
def refresh_contributivity() -> int:
    from judging.contributivity import contributivity_refresh

    return contributivity_refresh()
