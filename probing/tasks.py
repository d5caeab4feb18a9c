"""Thin tasks: scheduling and recording on `control`. Probes run on `probe`
(worker_node/tasks.py, a thread pool), sent there by name."""

from __future__ import annotations

from typing import Any

from celery import shared_task

from foundation.celery import RECORD_TASK_OPTIONS, app, discard_unstarted_task
from worker_node import names
from worker_wing.jobs import ProbeJobMessage


def _apply(job: ProbeJobMessage, **options: Any) -> Any:
    from probing.services import probe_task_id

    # Flower and the logs show the job without its auth header; the message
    # itself carries the header. No eta, no expires: a probe host's clock is
    # never asked whether a probe is due or stale (the reaper decides).
    shown = {**job, "auth_header": "***" if job.get("auth_header") else ""}
    # By name: the task lives on the probe workers (worker_node/tasks.py).
    options.setdefault("ignore_result", names.EXECUTE_PROBE_IGNORES_RESULT)
    return app.send_task(
        names.EXECUTE_PROBE,
        args=(job,),
        argsrepr=repr((shown,)),
        task_id=probe_task_id(job["probe_id"]),
        **options,
    )


def _send(job: ProbeJobMessage) -> None:
    _apply(job)


@shared_task(name="probing.tasks.reap_lost_probes")
def reap_lost_probes() -> int:
    from probing.services import probes_reap

    return probes_reap(discard=discard_unstarted_task)


@shared_task(name="probing.tasks.schedule_probes", ignore_result=True)
def schedule_probes() -> int:
    from probing.services import probes_schedule, scores_publish

    planned = probes_schedule(send=_send)
    # Publishing rides on this tick (it already runs on control every few seconds),
    # after the scheduling it must never hold up: a slot is published by the first
    # tick after it, and a tick with no slot due costs one query.
    scores_publish()
    return planned


@shared_task(name="probing.tasks.record_probe_result", ignore_result=True, **RECORD_TASK_OPTIONS)
def record_probe_result(result: dict[str, Any]) -> str:
    from probing.services import probe_record_result

    return probe_record_result(result=result)


def run_probe_now(job: ProbeJobMessage, wait_seconds: float) -> dict[str, Any]:
    """Send a probe and wait for its result (a "check now")."""
    from celery.exceptions import TimeoutError as CeleryTimeout

    message = _apply(job, ignore_result=False)
    try:
        return dict(message.get(timeout=wait_seconds))
    except CeleryTimeout:
        # Not run later by a worker that finds it: the answer is given up.
        discard_unstarted_task(message.id)
        return {
            "probe_id": job["probe_id"],
            "outcome": "lost",
            "detail": f"no probe worker answered within {wait_seconds:g} s: "
            "is a worker serving the probe queue?",
        }
