"""A resource sweep on a judge worker: which of a job's configurations this worker can
run on the cores they ask for, the runs it makes of them (one confined run per core
count), and the one report made of those runs. No Django here.

Design: a configuration asks for N cores (worker_wing/pipeline/plan.py's
resource_sweep_plans; the control side checked N against the challenge's offer).
The worker confines the box's cgroup to N CPUs' time (job_cgroup.py's CFS quota)
for the run of that core count's configurations, and the runner sets the maths
libraries' threads to N (runner_fold.py). A configuration asking for more cores
than this worker has, or any cores where the worker cannot confine its cgroup, is
not run: the result names it and says why, and the rest of the sweep is judged.
Routing it to a larger worker is left to the operator (a challenge's own judge
queue of larger workers), as a job is one unit on one worker.
"""

from __future__ import annotations

import base64
import binascii
import os
from dataclasses import dataclass
from typing import Any

from worker_wing.judge.sandbox import JobRun


def worker_cores() -> int:
    """The CPUs this worker process may run on (its affinity, which a container's or
    the operator's cpuset narrows)."""
    return len(os.sched_getaffinity(0))


@dataclass(frozen=True)
class NotRun:
    """A configuration of the job this worker did not run, and why."""

    index: int
    reason: str


def not_runnable(plans: list[dict[str, Any]], *, cores: int, confine_problem: str) -> list[NotRun]:
    """The configurations this worker cannot run as asked, each with its reason."""
    skipped = []
    for index, plan in enumerate(plans):
        asked = plan.get("cores")
        if not asked:
            continue
        if int(asked) > cores:
            reason = f"asks for {asked} cores; this judge worker has {cores}"
        elif confine_problem:
            reason = f"this judge worker cannot confine a run to {asked} cores: {confine_problem}"
        else:
            continue
        skipped.append(NotRun(index, reason))
    return skipped


def core_groups(plans: list[dict[str, Any]]) -> list[tuple[int | None, list[int]]]:
    """Consecutive configurations of one core count, as (cores or None, their indexes):
    each group is one confined run of the sandbox."""
    groups: list[tuple[int | None, list[int]]] = []
    for index, plan in enumerate(plans):
        cores = int(plan["cores"]) if plan.get("cores") else None
        if groups and groups[-1][0] == cores:
            groups[-1][1].append(index)
        else:
            groups.append((cores, [index]))
    return groups


def merged_run(runs: list[JobRun]) -> JobRun:
    """The runs of one job's core counts as one: their configurations, predictions and
    models one after the other (in the order the runs were made), their figures
    added up (memory: the highest), the last run's exit and output tails."""
    if len(runs) == 1:
        return runs[0]
    reports = [run.report or {} for run in runs]
    report = dict(reports[-1])
    report["configurations"] = [
        configuration for part in reports for configuration in part.get("configurations") or []
    ]
    for name in ("predictions", "models"):
        try:
            joined = b"".join(
                base64.b64decode(str(part.get(name) or ""), validate=True) for part in reports
            )
        except binascii.Error:  # the executor reports unreadable predictions
            report[name] = "not base64"
        else:
            report[name] = base64.b64encode(joined).decode()
    report["stdout_tail"] = "".join(str(part.get("stdout_tail") or "") for part in reports)[-8000:]
    report["stderr_tail"] = "".join(str(part.get("stderr_tail") or "") for part in reports)[-8000:]
    return JobRun(
        report,
        cpu_seconds=sum(run.cpu_seconds for run in runs),
        peak_memory_mb=max(run.peak_memory_mb for run in runs),
        wall_seconds=sum(run.wall_seconds for run in runs),
        processes_refused=any(run.processes_refused for run in runs),
        samples=[sample for run in runs for sample in run.samples],
    )
