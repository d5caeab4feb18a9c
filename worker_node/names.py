"""The names of the tasks that cross between the control side and remote workers.

The control side sends jobs by these names (`app.send_task`), and remote workers
send results back the same way: neither side imports the other's tasks, and a
message is the same whichever side's code built it. Renaming one is a change of
the wire format: workers of the old and the new version must not mix.
"""

from __future__ import annotations

from typing import TypedDict

# Control → remote: the jobs (worker_node/tasks.py runs them).
EXECUTE_TRANSACTION = "dispatch.tasks.execute_transaction"
# Several transactions in one message (what the control side sends since issue 22).
EXECUTE_TRANSACTION_BATCH = "dispatch.tasks.execute_transaction_batch"
EXECUTE_JUDGE_JOB = "judging.tasks.execute_judge_job"
EXECUTE_REPRODUCTION_JOB = "judging.tasks.execute_reproduction_job"
EXECUTE_PROBE = "probing.tasks.execute_probe"

# Remote → control: what a job reports (the apps' tasks.py record it).
RECORD_TRANSACTION_STARTED = "dispatch.tasks.record_transaction_started"
RECORD_TRANSACTION_RESULT = "dispatch.tasks.record_transaction_result"
RECORD_TRANSACTIONS_STARTED = "dispatch.tasks.record_transactions_started"
RECORD_TRANSACTION_RESULTS = "dispatch.tasks.record_transaction_results"
RECORD_SUBMISSION_STARTED = "judging.tasks.record_submission_started"
RECORD_SUBMISSION_HEARTBEAT = "judging.tasks.record_submission_heartbeat"
RECORD_JUDGE_RESULT = "judging.tasks.record_judge_result"
RECORD_REPRODUCTION_STARTED = "judging.tasks.record_reproduction_started"
RECORD_REPRODUCTION_RESULT = "judging.tasks.record_reproduction_result"
RECORD_PROBE_RESULT = "probing.tasks.record_probe_result"

# Results of scheduled probes are not kept in Redis (they report through
# record_probe_result); only a "check now" asks for one.
EXECUTE_PROBE_IGNORES_RESULT = True
RECORD_PROBE_RESULT_IGNORES_RESULT = True
# Nor those of the judge's reports (a start, a result): nothing reads them, and
# keeping one cost the control worker four Redis round trips a report (its
# "started" and "succeeded" states, each read before written; issue 22).
RECORD_JUDGE_REPORTS_IGNORE_RESULT = True

# Queues and routes, the same on both sides: executors of remote jobs are named
# execute_*; everything else is control work, which needs the database.
QUEUES = ("control", "dispatch", "judge", "probe")
DEFAULT_QUEUE = "control"
TASK_ROUTES = {
    "dispatch.tasks.execute_*": {"queue": "dispatch"},
    "judging.tasks.execute_*": {"queue": "judge"},
    "probing.tasks.execute_*": {"queue": "probe"},
}


class TimeLimits(TypedDict):
    soft_time_limit: int
    time_limit: int


def dispatch_time_limits(dispatch_time_limit: int) -> TimeLimits:
    """An upload's time limits: the message carries them, and the worker's task
    has the same (a worker whose task had none would still stop the upload)."""
    return {"soft_time_limit": dispatch_time_limit, "time_limit": dispatch_time_limit + 10}


def judge_time_limits(wall_seconds: int) -> TimeLimits:
    """A judge job's time limits, in its message: the job's wall limit and a margin
    for fetching inputs and starting the sandbox."""
    return {"soft_time_limit": wall_seconds + 60, "time_limit": wall_seconds + 90}
