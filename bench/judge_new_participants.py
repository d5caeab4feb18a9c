"""What a new participant's job costs the judge side in CPU: N tiny jobs from N
participants, one after another through the executor, as bench/judge_throughput.py's
students take turns (nearly every job a participant the worker has no box for).

Counted: every sandbox cgroup's CPU (each cgroup is read just before the worker
removes it, the live ones at the end: bubblewrap, the nursery's or each
sandbox's imports, every job), plus this process's own (the worker: inputs,
scoring, starting sandboxes). Printed: CPU per job, the jobs' own figure (what
their cgroup measured between start and report, the students' code and the
runner's folds), and the difference, the fixed cost of a new participant. CPU
seconds, not wall: the machine may be busy; the load is printed.

    .venv/bin/python bench/judge_new_participants.py [--jobs 20] [--prewarm]
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[name] = "1"  # the same thread count as a judge job
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness import bench_temp_dir  # noqa: E402

from tests.judge_kits import GOOD, judge_job  # noqa: E402
from worker_wing.content_store import ContentStore  # noqa: E402
from worker_wing.judge import job_cgroup  # noqa: E402
from worker_wing.judge.executor import execute_judge_job  # noqa: E402
from worker_wing.judge.sandbox import SandboxConfig  # noqa: E402

_counted: dict[int, float] = {}  # id(cgroup): its CPU seconds, read before removal
_live: dict[int, job_cgroup.SandboxCgroup] = {}
_create, _remove = job_cgroup.SandboxCgroup.create, job_cgroup.SandboxCgroup.remove


def _counting_create(name: str, root: str = "") -> job_cgroup.SandboxCgroup:
    cgroup = _create(name, root)
    _live[id(cgroup)] = cgroup
    return cgroup


def _counting_remove(self: job_cgroup.SandboxCgroup, timeout: float = 10.0) -> None:
    if id(self) in _live:
        self.kill(timeout)
        _counted[id(self)] = self._cpu_total()
        del _live[id(self)]
    _remove(self, timeout)


def sandbox_cpu() -> float:
    live = sum(cgroup._cpu_total() for cgroup in _live.values())
    return sum(_counted.values()) + live


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jobs", type=int, default=20)
    parser.add_argument("--prewarm", action="store_true", help="as a worker does (spare/nursery)")
    args = parser.parse_args()
    job_cgroup.SandboxCgroup.create = staticmethod(_counting_create)  # type: ignore[method-assign,assignment]
    job_cgroup.SandboxCgroup.remove = _counting_remove  # type: ignore[method-assign]
    work = bench_temp_dir("ppipe-bench-participants-")
    store = ContentStore(work / "artifacts")
    config = SandboxConfig(prewarm=args.prewarm, work_root=str(work))
    job = judge_job(store, GOOD)
    print("load average at the start: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    own_before = resource.getrusage(resource.RUSAGE_SELF)
    started = time.monotonic()
    jobs_cpu = 0.0
    for index in range(args.jobs):
        result = execute_judge_job(
            {**job, "participant": f"participant-{index}"}, artifacts=store, sandbox=config
        )
        assert result["ok"], result["reason"]
        jobs_cpu += result["cpu_seconds"]
    wall = time.monotonic() - started
    time.sleep(3)  # a sandbox started while idle (--prewarm) finishes its imports
    own_after = resource.getrusage(resource.RUSAGE_SELF)
    own = (own_after.ru_utime + own_after.ru_stime) - (own_before.ru_utime + own_before.ru_stime)
    total = sandbox_cpu() + own
    print("load average at the end: {:.2f} {:.2f} {:.2f}".format(*os.getloadavg()))
    print(f"{args.jobs} jobs, {args.jobs} participants, prewarm={args.prewarm}, wall {wall:.1f} s")
    print(f"sandboxes' CPU      {sandbox_cpu():8.2f} s  ({sandbox_cpu() / args.jobs:.3f} s a job)")
    print(f"worker's own CPU    {own:8.2f} s  ({own / args.jobs:.3f} s a job)")
    print(f"judge side in all   {total:8.2f} s  ({total / args.jobs:.3f} s a job)")
    print(f"the jobs' own       {jobs_cpu:8.2f} s  ({jobs_cpu / args.jobs:.3f} s a job)")
    beyond = total - jobs_cpu
    print(f"beyond the jobs     {beyond:8.2f} s  ({beyond / args.jobs:.3f} s a job)")


if __name__ == "__main__":
    main()
