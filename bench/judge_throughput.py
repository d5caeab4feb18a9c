"""Judging throughput: 200 small submissions from 20 students on 2 judge processes.

The ideal is the submissions' own CPU time (the sum of what the sandbox measured
for each: fitting and predicting on the folds) divided by the 2 processes: a
platform with no overhead would take that long. Prints the wall time of the
whole path (upload -> feeder -> Redis -> judge worker in bubblewrap -> control
worker scores and records) and its efficiency: ideal / wall. Target >= 0.85.

On one 2-core machine the control side (web uploads and code checks, the control
worker, PostgreSQL, Redis, beat) shares the cores with the judges, so a second
measurement runs the same jobs on the judge side alone, as judge machines run
them when the control side lives elsewhere: 2 processes, each with its reused
sandbox, calling the executor directly.

    .venv/bin/python bench/judge_throughput.py [--students 20] [--each 10]
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

from control_census import ControlCensus
from harness import BenchPlatform, bench_platform

# A small but real job: a forest on the breast cancer data, ~0.5 s of CPU over 5 folds.
SUBMISSION = b"""\
from sklearn.ensemble import RandomForestClassifier


def get_estimator():
    return RandomForestClassifier(n_estimators=30, random_state=0)
"""


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--each", type=int, default=10)
    parser.add_argument("--judge-concurrency", type=int, default=2)
    args = parser.parse_args()
    with bench_platform(PPIPE_JUDGE_QUEUE_DEPTH="4", PPIPE_JUDGE_TICK_SECONDS="1") as platform:
        run(args, platform)
    judge_side_only(args.students * args.each, args.judge_concurrency)


def _judge_jobs(count: int) -> float:
    """Run `count` jobs through the executor in this process; their student CPU."""
    import tempfile
    from pathlib import Path

    from sklearn.datasets import load_breast_cancer

    from tests.judge_kits import frames_job
    from worker_wing.content_store import ContentStore
    from worker_wing.judge.executor import execute_judge_job
    from worker_wing.judge.sandbox import SandboxConfig

    frame = load_breast_cancer(as_frame=True).frame.sample(frac=1.0, random_state=0)
    work = Path(tempfile.mkdtemp(prefix="ppipe-bench-judge-"))
    store = ContentStore(work / "artifacts")
    limits = {"cpu_seconds": 60, "memory_mb": 1024, "wall_seconds": 60}
    limits |= {"processes": 64, "file_mb": 64}
    job = frames_job(
        store, SUBMISSION.decode(), frame.iloc[:450], frame.iloc[450:], folds=5, limits=limits
    )
    config = SandboxConfig(work_root=str(work))
    cpu = 0.0
    for _ in range(count):
        result = execute_judge_job(job, artifacts=store, sandbox=config)
        assert result["ok"], result["reason"]
        cpu += result["cpu_seconds"]
    return cpu


def judge_side_only(total: int, processes: int) -> None:
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(processes) as pool:
        list(pool.map(_judge_jobs, [1] * processes))  # each process's sandbox, warm
        started = time.perf_counter()
        cpu = sum(pool.map(_judge_jobs, [total // processes] * processes))
        wall = time.perf_counter() - started
    print()
    print(f"judge side alone ({processes} processes calling the executor, reused sandboxes):")
    print(
        f"  {total} jobs, student CPU {cpu:.1f} s, ideal {cpu / processes:.1f} s, wall {wall:.1f} s"
    )
    print(f"  efficiency (ideal / wall): {cpu / processes / wall:.2f}  (target >= 0.85)")


def run(args: argparse.Namespace, platform: BenchPlatform) -> None:
    from django.contrib.auth import get_user_model

    from challenges.services import participant_enroll
    from foundation.accounts import admin_account_ensure
    from judging.models import ENDED_STATES, JudgingRules, Submission, SubmissionState
    from judging.services import submission_create
    from ppipe_site.demo import demo_challenge_ensure

    challenge, _ = demo_challenge_ensure(owner=admin_account_ensure().user)
    JudgingRules.objects.filter(pk=challenge.pk).update(submissions_per_day=args.each)
    challenge.refresh_from_db()
    students = [
        participant_enroll(
            challenge=challenge,
            user=get_user_model().objects.create(username=f"s{n}"),
        )[0]
        for n in range(args.students)
    ]
    control = platform.start_celery("worker", "-Q", "control", "-c", "2", "-n", "control@bench")
    platform.start_celery(
        "worker", "-Q", "judge", "-c", str(args.judge_concurrency), "-n", "judge@bench"
    )
    time.sleep(10)  # workers up (and their sandboxes warm) before the clock starts
    total = args.students * args.each
    print(f"{total} submissions from {args.students} students …", flush=True)
    # Live process trees are measured by psutil; the machine's busy time by /proc/stat
    # (sandboxes that were replaced during the run are counted only there).
    groups = {"control worker": control.pid, "uploads and code checks": os.getpid()}
    before = {name: tree_cpu(pid) for name, pid in groups.items()}

    census = ControlCensus.start(hostname="control@bench")
    busy_before = machine_busy()
    started = time.perf_counter()
    for _ in range(args.each):
        for student in students:
            submission_create(participant=student, filename="estimator.py", content=SUBMISSION)
    platform.start_celery("beat", "-s", str(platform.work / "beat-schedule"))
    ended = 0
    while ended < total:
        time.sleep(0.5)
        ended = Submission.objects.filter(state__in=ENDED_STATES).count()
    wall = time.perf_counter() - started
    spent = {name: tree_cpu(pid) - before[name] for name, pid in groups.items()}
    busy = machine_busy() - busy_before

    rows = Submission.objects.all()
    failed = rows.exclude(state=SubmissionState.SCORED)
    if failed.exists():
        raise SystemExit(f"{failed.count()} not scored, e.g. {failed.first().reason}")  # type: ignore[union-attr]
    cpu = [row.cpu_seconds or 0.0 for row in rows]
    ideal = sum(cpu) / args.judge_concurrency
    print()
    print(f"job CPU per submission: median {statistics.median(cpu):.2f} s, total {sum(cpu):.1f} s")
    print(f"ideal (total CPU / {args.judge_concurrency}) : {ideal:7.1f} s")
    print(f"whole path wall time      : {wall:7.1f} s")
    print(f"efficiency (ideal / wall) : {ideal / wall:7.2f}  (target >= 0.85)")
    print()
    cores = psutil_cores()
    print(f"CPU of this machine during the run: {busy:.1f} s busy of {cores * wall:.1f} s")
    print(f"  {'students code (measured)':28}: {sum(cpu):7.1f} s")
    for name, seconds in spent.items():
        print(f"  {name:28}: {seconds:7.1f} s")
    rest = busy - sum(cpu) - sum(spent.values())
    print(f"  {'judge worker, beat, Redis, PostgreSQL':28}: {rest:7.1f} s")
    census.print_breakdown(submissions=total)


def machine_busy() -> float:
    import psutil

    times = psutil.cpu_times()
    return float(sum(times) - times.idle - getattr(times, "iowait", 0.0))


def psutil_cores() -> int:
    import psutil

    return int(psutil.cpu_count() or 1)


def tree_cpu(pid: int) -> float:
    """CPU seconds of a process and all its descendants, live or already reaped (this
    process alone and what it reaped: the workers it started are counted apart)."""
    import psutil

    total = 0.0
    root = psutil.Process(pid)
    descendants = [] if pid == os.getpid() else root.children(recursive=True)
    for process in [root, *descendants]:
        try:
            times = process.cpu_times()
        except psutil.NoSuchProcess:
            continue
        total += times.user + times.system + times.children_user + times.children_system
    return total


if __name__ == "__main__":
    main()
