"""Thin tasks: scheduling and recording on `control`; probing on `probe`.

Probe workers run a thread pool (`--pool threads`): a probe mostly waits on the
network, so one process keeps many endpoints on schedule.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from celery import shared_task

from ppipe_site.celery import RECORD_TASK_OPTIONS
from worker_wing.jobs import ProbeJobMessage, ProbeResult


def _apply(job: ProbeJobMessage, **options: Any) -> Any:
    # Flower and the logs show the job without its auth header; the message
    # itself carries the header.
    shown = {**job, "auth_header": "***" if job.get("auth_header") else ""}
    return execute_probe.apply_async(  # type: ignore[call-arg]  # stubs lack argsrepr
        args=(job,), argsrepr=repr((shown,)), **options
    )


def _send(job: ProbeJobMessage, at: datetime, expires: datetime) -> None:
    _apply(job, eta=at, expires=expires)


@shared_task(name="probing.tasks.schedule_probes", ignore_result=True)
def schedule_probes() -> int:
    from probing.services import probes_reap, probes_schedule, scores_publish

    probes_reap()
    planned = probes_schedule(send=_send)
    # Publishing rides on this tick (it already runs on control every few seconds),
    # after the scheduling it must never hold up: a slot is published by the first
    # tick after it, and a tick with no slot due costs one query.
    scores_publish()
    return planned


# Results are kept only for a "check now", which waits for one: scheduled probes
# report through record_probe_result, and keeping their results would fill Redis.
@shared_task(name="probing.tasks.execute_probe", ignore_result=True)
def execute_probe(job: ProbeJobMessage) -> ProbeResult:
    from worker_wing.probe.executor import execute_probe_job

    result = execute_probe_job(job)
    record_probe_result.delay(result)
    return result


@shared_task(name="probing.tasks.record_probe_result", ignore_result=True, **RECORD_TASK_OPTIONS)
def record_probe_result(result: dict[str, Any]) -> str:
    from probing.services import probe_record_result

    return probe_record_result(result=result)


def run_probe_now(job: ProbeJobMessage, wait_seconds: float) -> dict[str, Any]:
    """Send a probe and wait for its result (a "check now")."""
    from celery.exceptions import TimeoutError as CeleryTimeout

    message = _apply(job, expires=wait_seconds, ignore_result=False)
    try:
        return dict(message.get(timeout=wait_seconds))
    except CeleryTimeout:
        return {
            "probe_id": job["probe_id"],
            "outcome": "lost",
            "detail": f"no probe worker answered within {wait_seconds:g} s: "
            "is a worker serving the probe queue?",
        }
