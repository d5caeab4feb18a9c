"""The `execute_*` tasks: a job from the broker, the wing's executor, and reports
to the control side's record tasks, sent by name (worker_node/names.py).

A time limit or a bug of ours still ends as a result with a reason
(worker_node/task_adapter.py), recorded like any other.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from worker_node import names
from worker_node.celery import app, settings
from worker_node.task_adapter import job_outcome
from worker_wing.content_store import ContentStore
from worker_wing.jobs import (
    JudgeJobMessage,
    JudgeResult,
    ProbeJobMessage,
    ProbeResult,
    ReleaseJobMessage,
    judge_failure,
    release_failure,
)
from worker_wing.worker_identity import now_reported, worker_name

if TYPE_CHECKING:  # imported in the task: only dispatch workers load rclone's module
    from worker_wing.release.rclone import Rclone

logger = logging.getLogger(__name__)


def artifact_store() -> ContentStore:
    return ContentStore(settings.artifact_dir)


def _report(name: str, *args: Any, **options: Any) -> None:
    options.setdefault("ignore_result", False)
    app.send_task(name, args=args, **options)


# --- releases -----------------------------------------------------------------
# shared=False: the tasks belong to this app only, not to every app of the
# process (the control side's, in a test that imports both).


def _release_rclone() -> Rclone:
    """The rclone of a release job, within this worker's limits and address policy."""
    from worker_wing.release.rclone import Rclone

    return Rclone(
        timeout=settings.dispatch_time_limit,
        allowed_networks=settings.destination_allowed_networks,
        run_as=settings.rclone_user,
    )


@app.task(
    name=names.EXECUTE_TRANSACTION,
    shared=False,
    # Re-running a release is harmless (same bytes to the same path, recorded once),
    # so a job whose worker died is handed out again rather than lost.
    acks_late=True,
    reject_on_worker_lost=True,
    **names.dispatch_time_limits(settings.dispatch_time_limit),
)
def execute_transaction(job: ReleaseJobMessage) -> dict[str, object]:
    from worker_wing.release.executor import execute_release_job

    worker = worker_name()
    transaction_id, attempt = int(job.get("transaction_id") or 0), int(job.get("attempt") or 0)
    _report(names.RECORD_TRANSACTION_STARTED, transaction_id, attempt, worker, now_reported())
    rclone = _release_rclone()
    result = job_outcome(
        lambda: execute_release_job(
            job,
            artifacts=artifact_store(),
            rclone=rclone,
            local_roots=settings.local_destination_roots,
        ),
        failed=lambda failure: release_failure(job, failure, worker=worker),
        worker=worker,
        time_limit_reason=f"the upload took longer than {settings.dispatch_time_limit} s",
        what=f"release job {job.get('transaction_id')}",
    )
    _report(names.RECORD_TRANSACTION_RESULT, result)
    return {
        "transaction_id": result["transaction_id"],
        "attempt": result["attempt"],
        "ok": result["ok"],
        "error": result.get("error"),
    }


@app.task(
    name=names.EXECUTE_TRANSACTION_BATCH,
    shared=False,
    # As one transaction: a batch whose worker died is handed out again whole; the
    # transactions it had already delivered are recorded once (by transaction id).
    acks_late=True,
    reject_on_worker_lost=True,
    **names.dispatch_time_limits(settings.dispatch_time_limit),
)
def execute_transaction_batch(jobs: list[ReleaseJobMessage]) -> dict[str, object]:
    """Several release jobs in one: one "started" report, one rclone call for the
    copies and one for the checks, one report of every transaction's result."""
    from worker_wing.release.batch import execute_release_batch

    worker = worker_name()
    started = [[int(job.get("transaction_id") or 0), int(job.get("attempt") or 0)] for job in jobs]
    _report(names.RECORD_TRANSACTIONS_STARTED, started, worker, now_reported())
    rclone = _release_rclone()
    results = job_outcome(
        lambda: execute_release_batch(
            jobs,
            artifacts=artifact_store(),
            rclone=rclone,
            local_roots=settings.local_destination_roots,
        ),
        failed=lambda failure: [release_failure(job, failure, worker=worker) for job in jobs],
        worker=worker,
        time_limit_reason=f"the batch's uploads took longer than {settings.dispatch_time_limit} s",
        what=f"release batch of {len(jobs)} jobs",
    )
    _report(names.RECORD_TRANSACTION_RESULTS, results)
    return {
        "transactions": len(results),
        "ok": sum(1 for result in results if result["ok"]),
        "failed": [result["transaction_id"] for result in results if not result["ok"]],
    }


# --- judging ------------------------------------------------------------------
@contextmanager
def _heartbeats(submission_id: int, attempt: int) -> Iterator[None]:
    """Tell the control side every few seconds that this run is alive."""
    stop = threading.Event()

    def beat() -> None:
        # Most jobs end before their first beat: the connection is made only then.
        if stop.wait(settings.judge_heartbeat_seconds):
            return
        # A connection of its own: the task's thread owns the default producer.
        with app.connection_for_write() as connection:
            producer = app.amqp.Producer(connection)
            while True:
                try:
                    _report(
                        names.RECORD_SUBMISSION_HEARTBEAT,
                        submission_id,
                        attempt,
                        producer=producer,
                    )
                except Exception:  # a lost beat only shortens the lease
                    logger.warning("heartbeat of submission %s not sent", submission_id)
                if stop.wait(settings.judge_heartbeat_seconds):
                    return

    thread = threading.Thread(target=beat, name=f"heartbeat-{submission_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)


@app.task(name=names.EXECUTE_JUDGE_JOB, shared=False)
def execute_judge_job(job: JudgeJobMessage) -> dict[str, object]:
    # Acknowledged on receipt: if this worker dies, the heartbeats stop and the
    # reaper judges the submission again (a bounded number of times). Redelivering
    # the message instead could loop forever on a job that kills its worker.
    from worker_wing.judge.executor import execute_judge_job as execute

    submission_id, attempt = int(job.get("submission_id") or 0), int(job.get("attempt") or 0)
    worker = worker_name()
    _report(
        names.RECORD_SUBMISSION_STARTED,
        submission_id,
        attempt,
        worker,
        now_reported(),
        ignore_result=names.RECORD_JUDGE_REPORTS_IGNORE_RESULT,
    )

    def run() -> JudgeResult:
        with _heartbeats(submission_id, attempt):
            return execute(job, artifacts=artifact_store(), sandbox=settings.sandbox)

    result = job_outcome(
        run,
        failed=lambda failure: judge_failure(job, failure),
        worker=worker,
        time_limit_reason="the judge worker's own time limit ran out",
        what=f"judge job of submission {submission_id}",
    )
    _report(
        names.RECORD_JUDGE_RESULT, result, ignore_result=names.RECORD_JUDGE_REPORTS_IGNORE_RESULT
    )
    return {
        "submission_id": result["submission_id"],
        "attempt": result["attempt"],
        "ok": result["ok"],
        "reason": result["reason"],
    }


@app.task(name=names.EXECUTE_REPRODUCTION_JOB, shared=False)
def execute_reproduction_job(job: JudgeJobMessage) -> dict[str, object]:
    # The same executor as the original run; none of the submission's own record
    # tasks: a reproduction reports to its own, and leaves the submission as judged.
    from worker_wing.judge.executor import execute_judge_job as execute

    reproduction_id = int(job["reproduction_id"])
    worker = worker_name()
    _report(names.RECORD_REPRODUCTION_STARTED, reproduction_id, worker)
    result = job_outcome(
        lambda: execute(job, artifacts=artifact_store(), sandbox=settings.sandbox),
        failed=lambda failure: judge_failure(job, failure),
        worker=worker,
        time_limit_reason="the judge worker's own time limit ran out",
        what=f"reproduction {reproduction_id}",
    )
    result["reproduction_id"] = reproduction_id
    _report(names.RECORD_REPRODUCTION_RESULT, result)
    return {"reproduction_id": reproduction_id, "ok": result["ok"], "worker": worker}


# --- probes -------------------------------------------------------------------
# Probe workers run a thread pool (`--pool threads`): a probe mostly waits on the
# network, so one process keeps many endpoints on schedule.
@app.task(name=names.EXECUTE_PROBE, ignore_result=names.EXECUTE_PROBE_IGNORES_RESULT, shared=False)
def execute_probe(job: ProbeJobMessage) -> ProbeResult:
    from worker_wing.probe.executor import execute_probe_job

    result = execute_probe_job(job)
    _report(
        names.RECORD_PROBE_RESULT, result, ignore_result=names.RECORD_PROBE_RESULT_IGNORES_RESULT
    )
    return result
