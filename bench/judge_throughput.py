"""Judging throughput: 200 small submissions from 20 students, three ways.

The ideal is the submissions' own CPU time (the sum of what the sandbox measured
for each: fitting and predicting on the folds) divided by the judge processes: a
platform with no overhead would take that long. Each measurement prints its
wall time and its efficiency: ideal / wall.

1. Whole path, one machine: upload (with its code check) -> feeder -> Redis ->
   judge worker in bubblewrap -> control worker scores and records in
   PostgreSQL, everything on the same cores. Target >= 0.78.
2. Judge side alone: the very jobs the control side built for those
   submissions (one job definition, judging/jobs.py's, batch size and all),
   replayed in the same order through the executor in as many processes, each
   with the worker's sandbox settings and a warm spare sandbox, each job to
   whichever process is free (as the worker's processes take them from the
   queue). Target >= 0.92.
3. Whole path, two hosts: the control side (uploads, control worker, beat,
   PostgreSQL and Redis of its own) on a host made of a network namespace, as
   the fault suite builds them (tests/lab.py), and the judge worker on this
   machine, with no database credentials, reaching the broker only over the
   veth (the artifact store is a shared folder, as in the fault suite). One
   machine's cores are split between the hosts (`taskset`): the control host
   gets the first, the judge host the others, as if each were a machine of its
   own. Target >= 0.90. Needs root (skipped otherwise, or with --one-host).

    .venv/bin/python bench/judge_throughput.py [--submissions 200] [--students 20]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from control_census import ControlCensus
from harness import BenchPlatform, bench_platform

# A small but real job: a forest on the breast cancer data, ~0.5 s of CPU over 5 folds.
SUBMISSION = b"""\
from sklearn.ensemble import RandomForestClassifier


def get_estimator():
    return RandomForestClassifier(n_estimators=30, random_state=0)
"""
# Both whole paths: a deep enough judge queue, and the feeder ticking every second.
PLATFORM_ENV = {"PPIPE_JUDGE_QUEUE_DEPTH": "4", "PPIPE_JUDGE_TICK_SECONDS": "1"}
RESULT = "RESULT "  # the line the control host's driver reports its figures on
WORKER_READY = " ready."  # what a Celery worker logs once it consumes its queues
TARGETS = {"whole path, one machine": 0.78, "judge side alone": 0.92, "whole path, two hosts": 0.90}


@dataclass
class Measure:
    name: str
    processes: int  # judge processes: the ideal divides the CPU by them
    cpu: list[float]  # each submission's CPU, as the sandbox's cgroup measured it
    wall: float
    load: tuple[float, float]  # 1-minute load average before and after

    @property
    def ideal(self) -> float:
        return sum(self.cpu) / self.processes

    def line(self) -> str:
        return (
            f"{self.name:24} {len(self.cpu):4} jobs, judge processes {self.processes}  "
            f"student CPU {sum(self.cpu):6.1f} s  ideal {self.ideal:6.1f} s  "
            f"wall {self.wall:6.1f} s  efficiency {self.ideal / self.wall:4.2f} "
            f"(target {TARGETS[self.name]:.2f})  load {self.load[0]:.1f} -> {self.load[1]:.1f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--submissions", type=int, default=200)
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--judge-concurrency", type=int, default=2, help="on one machine")
    parser.add_argument("--one-host", action="store_true", help="skip the two-host measurement")
    parser.add_argument(
        "--whole-path-only",
        action="store_true",
        help="only the whole path on one machine (a quicker before/after of the control side)",
    )
    # The two-host measurement runs this script again on the control host.
    parser.add_argument("--control-host", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.control_host:
        control_host(args)
        return
    measures = []
    with bench_platform(**PLATFORM_ENV) as platform:
        measures.append(whole_path(args, platform, judge_processes=args.judge_concurrency))
        if args.whole_path_only:
            print()
            print(measures[0].line())
            return
        platform.stop_processes()  # idle workers and beat would take CPU from the replay
        measures.append(judge_side_alone(jobs_of_the_run(), args.judge_concurrency))
    if args.one_host:
        pass
    elif os.geteuid() != 0:
        print("\ntwo hosts: skipped (network namespaces need root)")
    else:
        measures.append(two_hosts(args))
    print()
    for measure in measures:
        print(measure.line())


# --- the whole path ---------------------------------------------------------------


def whole_path(
    args: argparse.Namespace, platform: BenchPlatform, *, judge_processes: int, host: str = ""
) -> Measure:
    """Submit, and time until every submission has ended. Starts the control worker
    (and, unless `host` says the judge runs elsewhere, the judge worker) here."""
    from django.contrib.auth import get_user_model

    from challenges.services import participant_enroll
    from foundation.accounts import admin_account_ensure
    from judging.models import ENDED_STATES, JudgingRules, Submission, SubmissionState
    from judging.services import submission_create
    from ppipe_site.demo import demo_challenge_ensure

    each = -(-args.submissions // args.students)  # rounded up; the last round may be partial
    challenge, _ = demo_challenge_ensure(owner=admin_account_ensure().user)
    JudgingRules.objects.filter(pk=challenge.pk).update(submissions_per_day=each)
    challenge.refresh_from_db()
    students = [
        participant_enroll(
            challenge=challenge,
            user=get_user_model().objects.create(username=f"s{n}"),
        )[0]
        for n in range(args.students)
    ]
    control = platform.start_celery("worker", "-Q", "control", "-c", "2", "-n", "control@bench")
    judge = None
    if not host:
        judge = platform.start_celery(
            "worker", "-Q", "judge", "-c", str(judge_processes), "-n", "judge@bench"
        )
    # Beat too: a platform's beat runs all along, and its start (Django and every
    # app imported: 1-2.5 s of CPU) is no part of judging a batch.
    beat = platform.start_celery("beat", "-s", str(platform.work / "beat-schedule"))
    time.sleep(10)  # workers up (and their sandboxes warm) before the clock starts
    total = args.submissions
    name = "whole path, two hosts" if host else "whole path, one machine"
    print(f"{name}: {total} submissions from {args.students} students …", flush=True)
    # Live process trees are measured by psutil; the machine's busy time by /proc/stat
    # (sandboxes that were replaced during the run are counted only there).
    groups = {
        "control worker": control.pid,
        "uploads and code checks": os.getpid(),
        "beat": beat.pid,
    }
    # A PostgreSQL server of the bench's own (PPIPE_BENCH_POSTGRES) whose postmaster's
    # PID is given: its CPU apart from the rest (every backend, live or reaped).
    if os.environ.get("PPIPE_BENCH_POSTGRES_PID"):
        groups["PostgreSQL server"] = int(os.environ["PPIPE_BENCH_POSTGRES_PID"])
    if judge is not None:
        # Its nursery and boxes too, as far as they were reaped by a process of the
        # tree: the students' code is taken out below.
        groups["judge worker tree"] = judge.pid
    before = {name: tree_cpu(pid) for name, pid in groups.items()}

    load_before = os.getloadavg()[0]
    census = ControlCensus.start(hostname="control@bench")
    busy_before = machine_busy()
    cores_before = core_busy()
    started = time.perf_counter()
    for n in range(total):
        submission_create(
            participant=students[n % len(students)], filename="estimator.py", content=SUBMISSION
        )
    ended = 0
    while ended < total:
        time.sleep(0.5)
        ended = Submission.objects.filter(state__in=ENDED_STATES).count()
    wall = time.perf_counter() - started
    spent = {name: tree_cpu(pid) - before[name] for name, pid in groups.items()}
    busy = machine_busy() - busy_before
    by_core = [after - before for after, before in zip(core_busy(), cores_before, strict=True)]

    rows = Submission.objects.all()
    failed = rows.exclude(state=SubmissionState.SCORED)
    if failed.exists():
        raise SystemExit(f"{failed.count()} not scored, e.g. {failed.first().reason}")  # type: ignore[union-attr]
    measure = Measure(
        name,
        judge_processes,
        [row.cpu_seconds or 0.0 for row in rows],
        wall,
        (load_before, os.getloadavg()[0]),
    )
    print(f"job CPU per submission: median {statistics.median(measure.cpu):.2f} s")
    print(measure.line())
    print(f"CPU of this machine during the run: {busy:.1f} s busy of {cores() * wall:.1f} s")
    print(f"  {'students code (measured)':28}: {sum(measure.cpu):7.1f} s")
    if "judge worker tree" in spent:
        spent["judge worker tree"] -= sum(measure.cpu)
        spent["judge worker tree, students' code excluded"] = spent.pop("judge worker tree")
    for group, seconds in spent.items():
        print(f"  {group:28}: {seconds:7.1f} s")
    rest = busy - sum(measure.cpu) - sum(spent.values())
    # /proc/stat counts the whole machine: other people's work too, on a shared one.
    print(f"  {'the rest (Redis, PostgreSQL, others)':28}: {rest:7.1f} s", flush=True)
    # Idle time on a core is time a judge could have worked (with two hosts, the
    # judge host's cores are the last ones: see two_hosts).
    print(
        "busy by core: "
        + ", ".join(
            f"CPU {n} {seconds:.1f} s ({seconds / wall:.0%})" for n, seconds in enumerate(by_core)
        )
    )
    census.print_breakdown(submissions=total)
    census.print_judge_slots(processes=judge_processes)
    return measure


# --- the judge side alone ---------------------------------------------------------


def jobs_of_the_run() -> list[dict[str, Any]]:
    """The judge jobs of the submissions just judged, as the control side builds
    them for the judge queue (judging/jobs.py), in the order they were submitted."""
    from django.db import connections

    from judging.jobs import judge_job
    from judging.models import Submission

    jobs = [
        dict(judge_job(submission=row, attempt=1))
        for row in Submission.objects.select_related("challenge").order_by("pk")
    ]
    connections.close_all()  # the replay's processes are forked: no connection shared
    return jobs


def _warm_sandbox() -> None:
    """What a judge worker's process does when it starts (worker_node/judge_warmup.py)."""
    from worker_node.settings import WorkerSettings
    from worker_wing.judge.executor import judge_prewarm

    judge_prewarm(WorkerSettings.from_environ().sandbox)


def _ready(_: int) -> None:
    time.sleep(0.5)  # long enough for each process to take one: all have warmed up


def _replay(job: dict[str, Any]) -> tuple[float, float]:
    """Run one job through the executor, as the judge worker's task does: its CPU, and
    this process's own while judging it (its nursery and boxes are not in it)."""
    import resource

    from worker_node.settings import WorkerSettings
    from worker_wing.content_store import ContentStore
    from worker_wing.judge.executor import execute_judge_job

    settings = WorkerSettings.from_environ()
    before = resource.getrusage(resource.RUSAGE_SELF)
    result = execute_judge_job(
        job,  # type: ignore[arg-type]
        artifacts=ContentStore(settings.artifact_dir),
        sandbox=settings.sandbox,
    )
    after = resource.getrusage(resource.RUSAGE_SELF)
    assert result["ok"], result["reason"]
    own = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return float(result["cpu_seconds"]), own


def judge_side_alone(jobs: list[dict[str, Any]], processes: int) -> Measure:
    from concurrent.futures import ProcessPoolExecutor

    print(f"\njudge side alone: the same {len(jobs)} jobs in {processes} processes …", flush=True)
    with ProcessPoolExecutor(processes, initializer=_warm_sandbox) as pool:
        list(pool.map(_ready, range(processes)))
        load_before = os.getloadavg()[0]
        busy_before = machine_busy()
        started = time.perf_counter()
        # One job at a time to whichever process is free, in the order submitted, as
        # the judge worker's processes take them from the queue (prefetch of one).
        replays = list(pool.map(_replay, jobs, chunksize=1))
        wall = time.perf_counter() - started
        busy = machine_busy() - busy_before
    cpu = [seconds for seconds, _ in replays]
    measure = Measure("judge side alone", processes, cpu, wall, (load_before, os.getloadavg()[0]))
    print(measure.line(), flush=True)
    # Where the cores' time went. "The rest" is everything else the machine did: the
    # nurseries forking boxes, the boxes' own start and end outside a job, the kernel's
    # cgroup and namespace work, and any other process (so: measure on a quiet machine).
    executors = sum(own for _, own in replays)
    idle = max(0.0, cores() * wall - busy)
    print(
        f"  cores' time {cores() * wall:6.1f} s: students' code {sum(cpu):6.1f} s, "
        f"executors' own {executors:5.1f} s ({executors / len(cpu) * 1000:.0f} ms a job), "
        f"the rest {max(0.0, busy - sum(cpu) - executors):5.1f} s, idle {idle:5.1f} s",
        flush=True,
    )
    return measure


# --- two hosts ----------------------------------------------------------------------


def two_hosts(args: argparse.Namespace) -> Measure:
    """The control side on a host of its own (a network namespace), the judge worker
    here; each host with its own share of the cores."""
    import psycopg

    from tests.lab import Lab

    cpus = sorted(os.sched_getaffinity(0))
    control_cpus, judge_cpus = cpus[:1], cpus[1:] or cpus
    print(
        f"\nwhole path, two hosts: control host on CPU {control_cpus}, "
        f"judge host (this machine's network) on CPU {judge_cpus} …",
        flush=True,
    )
    with Lab(["control"]) as lab:
        server = lab.start_postgres("control")
        broker = lab.start_redis("control")
        with psycopg.connect(server, autocommit=True) as connection:
            connection.execute("CREATE DATABASE ppipe")
        common = {
            **PLATFORM_ENV,
            "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin:/usr/sbin:/sbin",
            "PYTHONUNBUFFERED": "1",
            "CELERY_BROKER_URL": broker,
            "PPIPE_VAR_DIR": str(lab.work / "var"),
            "PPIPE_ARTIFACT_DIR": str(lab.work / "artifacts"),
        }
        (lab.work / "judge").mkdir()
        # What a remote judge machine holds: the broker's URL and the artifact store.
        # No DATABASE_URL (worker_node.command refuses one), no private store.
        judge_env = {
            **common,
            "PPIPE_PRIVATE_DIR": "/nonexistent",
            "PPIPE_JUDGE_WORK_DIR": str(lab.work / "judge"),
        }
        judge = lab.run_here(
            [
                *taskset(judge_cpus),
                sys.executable,
                "-m",
                "worker_node.command",
                "--queues",
                "judge",
                "--host",
                "judge-host",
                "--concurrency",
                str(len(judge_cpus)),
            ],
            judge_env,
        )
        wait_for(lambda: WORKER_READY in lab.log(judge), 180, "the judge worker to be ready")
        control_env = {
            **common,
            "DJANGO_SETTINGS_MODULE": "ppipe_site.settings",
            "DATABASE_URL": server.rsplit("/", 1)[0] + "/ppipe",
            "CELERY_RESULT_BACKEND": broker,
            "PPIPE_PRIVATE_DIR": str(lab.work / "private"),
        }
        driver = lab.run(
            "control",
            [
                *taskset(control_cpus),
                sys.executable,
                str(Path(__file__).resolve()),
                "--control-host",
                str(lab.work),
                "--submissions",
                str(args.submissions),
                "--students",
                str(args.students),
                "--judge-concurrency",
                str(len(judge_cpus)),
            ],
            control_env,
        )
        driver.wait()
        report = lab.log(driver)
        print(report, end="", flush=True)
        if driver.returncode != 0:
            raise SystemExit(f"the control host's run failed ({driver.returncode})")
    found = [line for line in report.splitlines() if line.startswith(RESULT)]
    return Measure(**json.loads(found[-1][len(RESULT) :]))


def control_host(args: argparse.Namespace) -> None:
    """On the control host: migrate, then the whole path with the judge elsewhere.
    Its figures go to the last line, for the script that started it."""
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    platform = BenchPlatform(work=args.control_host)
    try:
        measure = whole_path(
            args, platform, judge_processes=args.judge_concurrency, host="elsewhere"
        )
    finally:
        platform.stop_processes()
    print(RESULT + json.dumps(measure.__dict__), flush=True)


def taskset(cpus: list[int]) -> list[str]:
    return ["taskset", "-c", ",".join(map(str, cpus))]


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not happen within {timeout:.0f} s")
        time.sleep(0.5)


# --- CPU accounting -----------------------------------------------------------------


def machine_busy() -> float:
    import psutil

    times = psutil.cpu_times()
    return float(sum(times) - times.idle - getattr(times, "iowait", 0.0))


def core_busy() -> list[float]:
    import psutil

    return [
        float(sum(times) - times.idle - getattr(times, "iowait", 0.0))
        for times in psutil.cpu_times(percpu=True)
    ]


def cores() -> int:
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
