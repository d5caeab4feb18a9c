"""Thin tasks: feeding, reaping and recording on `control`. Jobs are judged on
`judge` (or a challenge's own queue) by worker_node/tasks.py, sent there by name."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import Any

from celery import shared_task
from celery.utils.nodenames import worker_direct
from django.dispatch import receiver

from foundation.celery import RECORD_TASK_OPTIONS, app, discard_unstarted_task
from judging import signals
from worker_node import names
from worker_wing.jobs import JudgeJobMessage

logger = logging.getLogger(__name__)

# Set while a control task records a judge worker's report: a wake-up of the feeder
# then feeds right there, after the commit, instead of queuing a feed task.
_feeding_here: ContextVar[bool] = ContextVar("feeding_here", default=False)


@contextmanager
def _feeds_here() -> Iterator[None]:
    token = _feeding_here.set(True)
    try:
        yield
    finally:
        _feeding_here.reset(token)


def _send(submission_id: int, job: JudgeJobMessage, lease: datetime, task_id: str) -> None:
    # No `expires`: a worker would compare it with its own clock, and a judge host
    # whose clock is ahead would drop every job. A copy that surfaces after the
    # reaper took the job back is revoked by the reaper instead (discard_unstarted_task).
    # By name: the task lives on the judge workers (worker_node/tasks.py).
    app.send_task(
        names.EXECUTE_JUDGE_JOB,
        args=(job,),
        task_id=task_id,
        # A challenge with a queue of its own is judged only by that queue's workers.
        queue=job.get("queue") or "judge",
        ignore_result=False,
        **names.judge_time_limits(int(job["limits"]["wall_seconds"])),
    )


def revoke_judge_task(task_id: str) -> None:
    # SIGTERM ends the pool process running the job; the sandbox dies with it
    # (bubblewrap's --die-with-parent), so a cancel stops the work within seconds.
    app.control.revoke(task_id, terminate=True, signal="SIGTERM")


@shared_task(name="judging.tasks.feed_judge_queue", ignore_result=True)
def feed_judge_queue() -> int:
    return _feed()


def _feed() -> int:
    from judging.feed_wakeups import feed_wakeup_release
    from judging.services import submissions_feed

    # Before reading the database: whatever commits from now on wakes the next feed.
    feed_wakeup_release()
    return submissions_feed(send=_send)


@shared_task(name="judging.tasks.reap_stuck_submissions")
def reap_stuck_submissions() -> int:
    from judging.services import submissions_reap

    return submissions_reap(discard=discard_unstarted_task)


@shared_task(name="judging.tasks.reap_stuck_reproductions")
def reap_stuck_reproductions() -> int:
    from judging.reproduction import reproductions_reap

    return reproductions_reap(discard=discard_unstarted_task)


# The judge's reports keep no result: nothing reads one (worker_node/names.py).
@shared_task(
    name="judging.tasks.record_submission_started",
    ignore_result=names.RECORD_JUDGE_REPORTS_IGNORE_RESULT,
    **RECORD_TASK_OPTIONS,
)
def record_submission_started(
    submission_id: int, attempt: int, worker: str, reported_at: str | None = None
) -> bool:
    from judging.services import submission_mark_started

    with _feeds_here():
        return submission_mark_started(
            submission_id=submission_id, attempt=attempt, worker=worker, reported_at=reported_at
        )


# No `expires` here either: the control side would compare it with its own clock,
# and every heartbeat of a judge host whose clock is behind would arrive expired.
@shared_task(name="judging.tasks.record_submission_heartbeat")
def record_submission_heartbeat(submission_id: int, attempt: int) -> bool:
    from judging.services import submission_heartbeat

    return submission_heartbeat(submission_id=submission_id, attempt=attempt)


@shared_task(
    name="judging.tasks.record_judge_result",
    ignore_result=names.RECORD_JUDGE_REPORTS_IGNORE_RESULT,
    **RECORD_TASK_OPTIONS,
)
def record_judge_result(result: dict[str, Any]) -> str:
    from judging.services import submission_record_result

    with _feeds_here():
        return submission_record_result(result=result)


# --- reproductions ------------------------------------------------------------
def live_judge_workers(queue: str) -> list[str]:
    """Workers of this judge queue that answer now and consume a queue of their own
    (a worker without one, e.g. of an older version, could not be sent a job directly)."""
    from foundation.live_workers import live_workers_by_queue

    live = live_workers_by_queue(fresh=True) or {}
    return [node for node in live.get(queue, []) if node in live.get(worker_direct(node).name, [])]


def _send_reproduction_job(job: dict[str, Any], node: str | None) -> str:
    from judging.reproduction import job_queue

    # To the chosen worker's own queue (a Queue with its own exchange, as Celery's
    # router takes it), or with none the job's judge queue.
    result = app.send_task(
        names.EXECUTE_REPRODUCTION_JOB,
        args=(job,),
        queue=worker_direct(node) if node else job_queue(job),  # type: ignore[arg-type]
        ignore_result=False,
        **names.judge_time_limits(int(job["limits"]["wall_seconds"])),
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


# --- what the services announce (judging/signals.py), connected in JudgingConfig.ready
# The broker may be down: what was committed waits for beat's next tick (the
# feeder, contributivity_refresh) or the reaper (a reproduction never sent).
@receiver(signals.judge_queue_changed, dispatch_uid="judging.tasks.wake_feeder")
def _wake_feeder(**_: Any) -> None:
    from judging.feed_wakeups import feed_wakeup_claim, feed_wakeup_release

    if not feed_wakeup_claim():
        return  # a feed is queued and has not started: it will see this change
    if _feeding_here.get():
        # A report just committed (a judge slot freed, a job left the broker): the
        # next job is sent from here, a task fewer and sooner than a queued feed
        # (measured for issue 22: a control task costs its worker more than the feed
        # itself). Two of these racing may overshoot the queue's depth, never send a
        # submission twice (submissions_feed). Whatever fails falls back to a task.
        try:
            _feed()
            return
        except Exception:
            logger.warning("feeding after a report failed; a feed task will", exc_info=True)
            if not feed_wakeup_claim():
                return
    try:
        feed_judge_queue.apply_async(retry=False)
    except Exception:
        feed_wakeup_release()
        logger.warning("the judge feeder was not woken; its next periodic tick will send the job")


@receiver(signals.reproduction_requested, dispatch_uid="judging.tasks.send_reproduction")
def _send_reproduction_soon(*, reproduction_id: int, **_: Any) -> None:
    try:
        send_reproduction.apply_async((reproduction_id,), retry=False)
    except Exception:
        logger.warning("reproduction %s was not sent: the broker did not answer", reproduction_id)


@receiver(signals.contributivity_due, dispatch_uid="judging.tasks.compute_contributivity")
def _compute_contributivity_soon(
    *, challenge_id: int, countdown: int, time_limit: int, **_: Any
) -> None:
    try:
        compute_contributivity.apply_async(
            (challenge_id,), countdown=countdown, time_limit=time_limit, retry=False
        )
    except Exception:
        logger.warning("contributivity of challenge %s not scheduled", challenge_id)
