"""The multi-host fault suite: the platform spread over hosts made of network
namespaces (tests/lab.py), a fault injected, and every job accounted for.

Hosts: `broker` (PostgreSQL, Redis, the control worker, beat), `judge1` and
`judge2` (judge workers with no database), `dispatch` and `probe`. Scenarios:

- kill-judge: SIGKILL a judge worker (its whole process group) in the middle of
  a job;
- cut-judge: cut a judge host's network in the middle of a job until that job
  runs again on the other host;
- restart-redis: SIGKILL the broker mid-job and start it again 5 s later;
- restart-postgres: SIGKILL the database mid-job, start it again once that job's
  result has met the dead database (and is being retried);
- two-beats: a second beat running by mistake;
- clock-skew: judge1's clock 5 minutes ahead, judge2's 5 minutes behind.

The demo challenge releases its data to the dispatch host's folder and its
endpoint (the reference model server, on the probe host's loopback) is probed
throughout. For each scenario it prints the submissions, how many were lost
(never scored), duplicated (scored more than once), retried, the seconds from
the fault until every one had ended, then the release transactions due by then
(lost: not done; duplicated: done more than once) and the probes (stuck: still
pending past the reaper's window), and exits 1 if anything was lost, duplicated
or stuck. Each scenario runs in a process and a lab of its own, three at a time
(`--parallel`): labs share no name, subnet, server, port or folder.

    sudo .venv/bin/python -m tests.fault.run [--scenario kill-judge] [--parallel 3]
"""

from __future__ import annotations

import argparse
import io
import os
import re
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from tests.lab import Lab, postgres_template
from tests.servers import grown_with_load, patience

HOSTS = ["broker", "judge1", "judge2", "dispatch", "probe"]
LATE_RESULT = "a late result"  # how judging/services.py notes an ignored result
WORKER_READY = " ready."  # what a Celery worker logs once it consumes its queues
# A job's ids in the prefix of a log line its task wrote (worker_node/logs.py).
JOB_IDS = re.compile(r"submission_id=\d+ attempt=\d+")
FAST = {
    "PPIPE_JUDGE_TICK_SECONDS": "1",
    "PPIPE_REAPER_SECONDS": "1",
    "PPIPE_JUDGE_HEARTBEAT_SECONDS": "1",
    "PPIPE_JUDGE_LEASE_SECONDS": "6",
    # A job lost with a worker's prefetch or with the broker (kill-judge,
    # restart-redis) waits this out before it is sent again: most of those
    # scenarios' time at 30 s. Still twice a job's wait behind another on an idle
    # machine, and grown with the load (a job taken back from the queue costs no
    # attempt: it is sent again).
    "PPIPE_JUDGE_QUEUE_SECONDS": "15",
    "PPIPE_JUDGE_MAX_ATTEMPTS": "3",
    "PPIPE_RELEASE_TICK_SECONDS": "1",
    "PPIPE_DISPATCH_BACKOFF_SECONDS": "1",
    # A release message lost with the broker is taken back within the suite's wait.
    "PPIPE_DISPATCH_QUEUE_SECONDS": "20",
    "PPIPE_DISPATCH_TIME_LIMIT": "30",
    "PPIPE_DISPATCH_LEASE_GRACE_SECONDS": "5",
    "PPIPE_PROBE_TICK_SECONDS": "1",
    "PPIPE_PROBE_TIMEOUT_SECONDS": "3",
    # A probe lost with the broker (restart-redis) is written off this long past
    # its slot and time limit (60 s by default): restart-redis, the longest
    # scenario, waited that out. Still many times a probe's answer (milliseconds
    # here), grown with the load; a probe written off costs nothing but a lost one.
    "PPIPE_PROBE_GRACE_SECONDS": "15",
}
# Deadlines the platform races its own workers against grow with the load, as
# the suite's waits do (tests/servers.py).
GROWN_WITH_LOAD = ("PPIPE_JUDGE_QUEUE_SECONDS", "PPIPE_PROBE_GRACE_SECONDS")
PROBE_INTERVAL_SECONDS = 3
MODEL_PORT = 8765
# Hosts whose wall clock is off, by scenario.
CLOCKS = {"clock-skew": {"judge1": "+5m", "judge2": "-5m"}}
# A job long enough to be caught in the middle.
SLOW_ESTIMATOR = b"""\
import time

from sklearn.linear_model import LogisticRegression


class Slow(LogisticRegression):
    def fit(self, X, y):
        time.sleep(1.0)
        return super().fit(X, y)


def get_estimator():
    return Slow(max_iter=500)
"""


@dataclass
class Outcome:
    scenario: str
    jobs: int
    lost: int
    duplicated: int
    retried: int  # jobs judged more than once because of the fault
    late_ignored: int  # results of an abandoned run that arrived and were ignored
    recovery_seconds: float
    releases: int = 0  # release transactions due by the time the jobs had ended
    releases_lost: int = 0
    releases_duplicated: int = 0
    probes: int = 0  # probes scheduled by then
    probes_stuck: int = 0
    probes_lost: int = 0  # no worker answered in time: recorded as such, not stuck

    @property
    def failed(self) -> bool:
        return bool(
            self.lost
            or self.duplicated
            or self.releases_lost
            or self.releases_duplicated
            or self.probes_stuck
        )

    def line(self) -> str:
        return (
            f"{self.scenario:16} jobs {self.jobs:3}  lost {self.lost:2}  "
            f"duplicated {self.duplicated:2}  retried {self.retried:2}  "
            f"late results ignored {self.late_ignored:2}  recovery {self.recovery_seconds:6.1f} s  "
            f"releases {self.releases:2} lost {self.releases_lost} "
            f"duplicated {self.releases_duplicated}  "
            f"probes {self.probes:3} stuck {self.probes_stuck} lost {self.probes_lost}"
        )


class Platform:
    """The processes of the platform on the lab's hosts."""

    def __init__(self, lab: Lab, database_url: str, broker_url: str) -> None:
        self.lab = lab
        self.python = sys.executable
        self.common = {
            **FAST,
            **grown_with_load(FAST, GROWN_WITH_LOAD),
            "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin:/usr/sbin:/sbin",
            "DJANGO_SETTINGS_MODULE": "ppipe_site.settings",
            "PYTHONUNBUFFERED": "1",
            "CELERY_BROKER_URL": broker_url,
            "PPIPE_VAR_DIR": str(lab.work / "var"),
            "PPIPE_ARTIFACT_DIR": str(lab.work / "artifacts"),
            "PPIPE_SANDBOX_PREWARM": "false",
        }
        self.control_env = {
            **self.common,
            "DATABASE_URL": database_url,
            "PPIPE_PRIVATE_DIR": str(lab.work / "private"),
        }
        self.judges: dict[str, subprocess.Popen[bytes]] = {}
        self.control: subprocess.Popen[bytes] | None = None
        self.workers: list[subprocess.Popen[bytes]] = []
        self.clocks: dict[str, str] = {}

    def run(self, host: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen[bytes]:
        return self.lab.run(host, argv, env, clock=self.clocks.get(host, ""))

    def run_service(
        self, host: str, argv: list[str], env: dict[str, str]
    ) -> subprocess.Popen[bytes]:
        """A worker or beat as deploy/ runs one: started again 5 s after it exits
        (systemd's Restart=always, RestartSec=5; compose's restart policy), since
        a Celery worker can exit on a broker restart (kombu 5.7 raises
        AttributeError while acknowledging on a dead connection). Killing its
        process group still kills it for good, as when its machine dies."""
        loop = 'while :; do "$@"; sleep 5; done'
        return self.run(host, ["/bin/sh", "-c", loop, "worker", *argv], env)

    def start_beat(self, name: str) -> None:
        beat = [self.python, "-m", "celery", "-A", "ppipe_site", "beat"]
        self.run_service("broker", [*beat, "-s", str(self.lab.work / name)], self.control_env)

    def start(self, clocks: dict[str, str]) -> None:
        self.clocks = clocks
        celery = [self.python, "-m", "celery", "-A", "ppipe_site"]
        # INFO: its log shows each retry of a result it could not record.
        self.control = self.run_service(
            "broker",
            [*celery, "worker", "-Q", "control", "-n", "control@broker", "-c", "2", "-l", "INFO"],
            self.control_env,
        )
        self.start_beat("beat")
        for host in ("judge1", "judge2"):
            self.judges[host] = self.run_service(
                host,
                [
                    self.python,
                    "-m",
                    "worker_node.command",
                    "--queues",
                    "judge",
                    "--host",
                    host,
                    "--concurrency",
                    "1",
                ],
                {**self.common, "PPIPE_PRIVATE_DIR": "/nonexistent"},
            )
        dispatch = self.run_service(
            "dispatch",
            [
                self.python,
                "-m",
                "worker_node.command",
                "--queues",
                "dispatch",
                "--host",
                "dispatch",
            ],
            self.common,
        )
        probe = self.run_service(
            "probe",
            [self.python, "-m", "worker_node.command", "--queues", "probe", "--host", "probe"],
            self.common,
        )
        self.workers = [self.control, *self.judges.values(), dispatch, probe]
        from ppipe_site.demo import demo_model_command

        # The endpoint under probe, on the probe host's own loopback.
        self.run("probe", demo_model_command(port=MODEL_PORT), self.common)

    def wait_ready(self) -> None:
        """Until every worker consumes its queue: a judge still starting when the
        jobs arrive would leave them all to the other, and the fault none to hit."""
        _wait(
            lambda: all(WORKER_READY in self.lab.log(worker) for worker in self.workers),
            120,
            "every worker to be ready",
        )


def _wait(condition: Callable[[], bool], timeout: float, what: str) -> None:
    """`timeout` is an idle machine's; it grows with the load (tests/servers.py)."""
    timeout *= patience()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.5)
    raise TimeoutError(f"{what} did not happen within {timeout:.0f} s")


def _submit(jobs: int) -> None:
    from django.contrib.auth import get_user_model

    from challenges.models import Challenge
    from challenges.services import participant_enroll
    from judging.services import submission_create

    challenge = Challenge.objects.get()
    for n in range(jobs):
        student, _ = participant_enroll(
            challenge=challenge, user=get_user_model().objects.create(username=f"s{n}")
        )
        submission_create(participant=student, filename="estimator.py", content=SLOW_ESTIMATOR)


def _account(scenario: str, fault_at: float) -> Outcome:
    """Wait for every submission to end, then count what was lost or doubled;
    likewise the release transactions and probes due by then."""
    from judging.models import ENDED_STATES, Submission, SubmissionEvent, SubmissionState

    _wait(
        lambda: not Submission.objects.exclude(state__in=ENDED_STATES).exists(),
        240,
        "every submission to end",
    )
    recovery = time.monotonic() - fault_at
    releases = _account_releases()
    probes = _account_probes()
    submissions = list(Submission.objects.all())
    # A late result leaves a note on the timeline (with the state it found), not a
    # second scoring: count only the transitions to scored.
    late = SubmissionEvent.objects.filter(message__startswith=LATE_RESULT)
    scored = SubmissionEvent.objects.filter(state=SubmissionState.SCORED).exclude(
        message__startswith=LATE_RESULT
    )
    doubled = sum(1 for s in submissions if scored.filter(submission=s).count() > 1)
    return Outcome(
        scenario,
        jobs=len(submissions),
        lost=sum(1 for s in submissions if s.state != SubmissionState.SCORED),
        duplicated=doubled,
        retried=sum(1 for s in submissions if s.attempts > 1),
        late_ignored=late.count(),
        recovery_seconds=recovery,
        **releases,
        **probes,
    )


def _account_releases() -> dict[str, int]:
    """Transactions due by now: wait for them to end (retries included), then
    count those not done and those done more than once."""
    from django.utils import timezone

    from dispatch.models import TERMINAL_STATES, Transaction, TransactionState

    due = Transaction.objects.filter(release__due_at__lte=timezone.now())
    _wait(
        lambda: not due.exclude(state__in=TERMINAL_STATES).exists(),
        120,
        "every release transaction due to end",
    )
    rows = list(due)
    done_events = [
        row.events.filter(state=TransactionState.DONE).count()
        for row in rows  # type: ignore[attr-defined]
    ]
    return {
        "releases": len(rows),
        "releases_lost": sum(1 for row in rows if row.state != TransactionState.DONE),
        "releases_duplicated": sum(1 for n in done_events if n > 1),
    }


def _account_probes() -> dict[str, int]:
    """Probes scheduled by now: each must end (answered, or recorded as lost by
    the reaper) within the reaper's window."""
    from django.conf import settings
    from django.utils import timezone

    from probing.models import Probe, ProbeState

    scheduled = Probe.objects.filter(scheduled_at__lte=timezone.now())
    # The reaper's grace and a tick; the reaper and the recording run late on a loaded machine.
    window = (
        settings.PPIPE_PROBE_TIMEOUT_SECONDS + settings.PPIPE_PROBE_GRACE_SECONDS + 10
    ) * patience()
    deadline = time.monotonic() + window
    # Stuck: still pending when the wait ended, counted by the check that ended
    # it. A probe the scheduler was committing as the wait began (due by then, but
    # not visible yet) may surface later; counted again afterwards, it would be
    # taken for stuck, though its window has hardly begun.
    while True:
        stuck = scheduled.filter(state=ProbeState.PENDING).count()
        if not stuck or time.monotonic() >= deadline:
            break
        time.sleep(0.5)
    return {
        "probes": scheduled.count(),
        "probes_stuck": stuck,
        "probes_lost": scheduled.filter(state=ProbeState.LOST).count(),
    }


def kill_judge(platform: Platform, jobs: int = 4) -> Outcome:
    """SIGKILL judge1's worker, its pool and its sandbox in the middle of a job."""
    _submit(jobs)
    _wait(lambda: _victim_busy(platform), 120, "a job running on judge1")
    platform.lab.kill(platform.judges["judge1"])
    return _account("kill-judge", time.monotonic())


def cut_judge(platform: Platform, jobs: int = 4) -> Outcome:
    """Pull judge1's cable in the middle of a job and plug it back once that job
    has been taken back and runs again on judge2: its late result then changes
    nothing. (The cable stayed out a fixed 30 s before, against a 6 s lease.)"""
    _submit(jobs)
    running: list[int] = []

    def victim_running() -> bool:
        running[:] = [] if not _victim_busy(platform) else _running_on("judge1")
        return bool(running)

    _wait(victim_running, 120, "a job running on judge1")
    platform.lab.cut("judge1")
    cut_at = time.monotonic()
    _wait(
        lambda: _judged_again_elsewhere(running[0]),
        120,
        f"submission {running[0]}, cut off on judge1, to run again on judge2",
    )
    platform.lab.heal("judge1")
    return _account("cut-judge", cut_at)


def _running_on(host: str) -> list[int]:
    """The submissions the database has running on this host's judge worker."""
    from judging.models import Submission, SubmissionState

    on_host = Submission.objects.filter(state=SubmissionState.RUNNING, worker__contains=f"@{host} ")
    return list(on_host.values_list("id", flat=True))


def _judged_again_elsewhere(submission_id: int) -> bool:
    """The reaper took the run back and another worker has started it, or it has
    ended (had the cut missed it, scored once: the suite then says so)."""
    from judging.models import ENDED_STATES, Submission, SubmissionState

    row = Submission.objects.get(id=submission_id)
    return row.state in ENDED_STATES or (
        row.attempts > 1 and row.state == SubmissionState.RUNNING and "@judge1 " not in row.worker
    )


def _victim_busy(platform: Platform) -> bool:
    """judge1's worker has a job in hand: a sandbox process below it."""
    import psutil

    victim = platform.judges["judge1"]
    try:
        children = psutil.Process(victim.pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return False
    return any("bwrap" in (child.name() or "") for child in children)


def _victim_jobs_ended(platform: Platform) -> list[str]:
    """The jobs judge1's worker has finished, by its own log: the ids each line
    carries ("submission_id=3 attempt=1")."""
    return [
        found.group(0)
        for line in platform.lab.log(platform.judges["judge1"]).splitlines()
        if "execute_judge_job[" in line
        and " succeeded in " in line
        and (found := JOB_IDS.search(line))
    ]


def _result_retried(platform: Platform, job: str) -> bool:
    """The control worker tried to record this job's result and will try again,
    by its own log."""
    assert platform.control is not None
    return any(
        "record_judge_result[" in line and " retry: " in line and f"{job}]" in line
        for line in platform.lab.log(platform.control).splitlines()
    )


def restart_redis(platform: Platform, jobs: int = 4) -> Outcome:
    """Kill the broker (SIGKILL) in the middle of a job, and start it again 5 s
    later on its append-only file: workers, beat and results reconnect."""
    _submit(jobs)
    _wait(lambda: _victim_busy(platform), 120, "a job running on judge1")
    restarted_at = time.monotonic()
    platform.lab.restart_redis(down_seconds=5)
    return _account("restart-redis", restarted_at)


def restart_postgres(platform: Platform, jobs: int = 4) -> Outcome:
    """Crash the database (SIGKILL) in the middle of a job and keep it down until
    that job has ended and its result has failed to be recorded, then start it
    again: the result is retried and recorded once, and no run is taken back for
    the heartbeats the dead database could not record."""
    _submit(jobs)
    _wait(lambda: _victim_busy(platform), 120, "a job running on judge1")
    from django.db import connections

    connections.close_all()  # this process's connection dies with the server
    ended = len(_victim_jobs_ended(platform))
    crashed_at = time.monotonic()
    platform.lab.crash_postgres()
    _wait(lambda: len(_victim_jobs_ended(platform)) > ended, 120, "judge1's job to end")
    job = _victim_jobs_ended(platform)[ended]
    _wait(
        lambda: _result_retried(platform, job), 60, f"the result of {job} to meet the dead database"
    )
    platform.lab.resume_postgres()
    return _account("restart-postgres", crashed_at)


def two_beats(platform: Platform, jobs: int = 4) -> Outcome:
    """A second beat started by mistake: every tick is sent twice, and each job
    is still judged once (claims are conditional updates)."""
    platform.start_beat("second-beat")
    started = time.monotonic()
    _submit(jobs)
    return _account("two-beats", started)


def clock_skew(platform: Platform, jobs: int = 4) -> Outcome:
    """judge1's clock runs 5 minutes ahead and judge2's 5 minutes behind: both
    still take jobs, their heartbeats still count, and each job is judged once."""
    started = time.monotonic()
    _submit(jobs)
    return _account("clock-skew", started)


SCENARIOS = {
    "kill-judge": kill_judge,
    "cut-judge": cut_judge,
    "restart-redis": restart_redis,
    "restart-postgres": restart_postgres,
    "two-beats": two_beats,
    "clock-skew": clock_skew,
}
# Started longest first, so that no long one starts last (restart-redis waits
# for the probe reaper to write off a probe lost with the broker).
LONGEST_FIRST = [
    "restart-redis",
    "kill-judge",
    "cut-judge",
    "restart-postgres",
    "clock-skew",
    "two-beats",
]
# Three labs at a time: each scenario spends most of its time waiting (leases,
# queue deadlines, the probe reaper's window), its processes mostly idle once
# started; three fit on a 2-core machine (all six passed side by side by three at
# a 1-minute load of 6-10 from other runs), and the suite takes the longest
# scenario and two short ones instead of three pairs.
PARALLEL = 3


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scenario", choices=sorted(SCENARIOS))
    parser.add_argument(
        "--parallel", type=int, default=PARALLEL, help="scenarios (labs) run at a time"
    )
    parser.add_argument(
        "--template", type=Path, help="a PostgreSQL data folder with the database made"
    )
    parser.add_argument("--migrate", metavar="DATABASE_URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.migrate:
        _migrate(args.migrate)
        return 0
    if args.scenario:
        with Lab(HOSTS) as lab:
            outcome = _run_scenario(lab, args.scenario, args.template)
        print(outcome.line(), flush=True)
        return 1 if outcome.failed else 0
    with tempfile.TemporaryDirectory(prefix="ppipe-fault-template-") as directory:
        Path(directory).chmod(0o755)  # the data folder below belongs to PostgreSQL's user
        template = postgres_template(Path(directory), _database_made)
        return _run_all(args.parallel, template)


def _run_all(parallel: int, template: Path) -> int:
    # Each scenario in a process of its own: Django's settings name one lab's servers.
    # Labs share nothing (each claims its own id: subnet, bridge, namespaces, and
    # its own servers, ports and folders), so they can run side by side.
    lines: dict[str, str] = {}
    failed = False
    with ThreadPoolExecutor(max_workers=max(1, parallel)) as pool:
        runs = {pool.submit(_run_scenario_process, name, template): name for name in LONGEST_FIRST}
        for finished in as_completed(runs):
            name = runs[finished]
            returncode, stdout, stderr, seconds = finished.result()
            print(f"{stdout}{stderr[-3000:]}{name}: {seconds:.0f} s in all\n", flush=True)
            lines[name] = (
                stdout.strip().splitlines()[-1] if stdout.strip() else f"{name}: no result"
            )
            failed = failed or returncode != 0
    print("\n".join(["", *(lines[name] for name in SCENARIOS)]))
    return 1 if failed else 0


def _run_scenario_process(name: str, template: Path) -> tuple[int, str, str, float]:
    started = time.monotonic()
    run = subprocess.run(
        [sys.executable, "-m", "tests.fault.run", "--scenario", name, "--template", str(template)],
        capture_output=True,
        text=True,
        check=False,
    )
    return run.returncode, run.stdout, run.stderr, time.monotonic() - started


DATABASE = "ppipe"


def _database_url(server: str) -> str:
    """The platform's database on the server whose URL names its `postgres` database."""
    return urlsplit(server)._replace(path=f"/{DATABASE}").geturl()


def _database_made(server: str) -> None:
    """Make the platform's database on a fresh server: migrated, with the platform's
    set-up (setup_platform, without the demo: its files go to a lab's own folders).
    In a process of its own: Django's settings name one database per process."""
    import psycopg

    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f"CREATE DATABASE {DATABASE}")
    subprocess.run(
        [sys.executable, "-m", "tests.fault.run", "--migrate", _database_url(server)],
        check=True,
        capture_output=True,
        timeout=300 * patience(),
    )


def _migrate(database: str) -> None:
    with tempfile.TemporaryDirectory(prefix="ppipe-fault-migrate-") as var:
        os.environ.update(
            {
                "DJANGO_SETTINGS_MODULE": "ppipe_site.settings",
                "DATABASE_URL": database,
                "PPIPE_VAR_DIR": var,
                "PPIPE_ARTIFACT_DIR": f"{var}/artifacts",
                "PPIPE_PRIVATE_DIR": f"{var}/private",
            }
        )
        import django

        django.setup()
        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        call_command("setup_platform", "--no-demo", stdout=io.StringIO())


def _run_scenario(lab: Lab, name: str, template: Path | None = None) -> Outcome:
    server = lab.start_postgres(template=template)
    broker = lab.start_redis()
    if template is None:  # run alone (--scenario): the database is made here
        _database_made(server)
    platform = Platform(lab, _database_url(server), broker)
    os.environ.update(platform.control_env)
    import django

    django.setup()
    from foundation.accounts import admin_account_ensure
    from ppipe_site.demo import demo_challenge_ensure, demo_endpoint_ensure
    from probing.models import ProbeRules

    challenge, _ = demo_challenge_ensure(owner=admin_account_ensure().user)
    ProbeRules.objects.filter(pk=challenge.pk).update(probe_interval_seconds=PROBE_INTERVAL_SECONDS)
    challenge.refresh_from_db()  # its probe rules are read again
    demo_endpoint_ensure(challenge=challenge, url=f"http://127.0.0.1:{MODEL_PORT}")
    platform.start(CLOCKS.get(name, {}))
    platform.wait_ready()
    print(f"{name}: platform up on {', '.join(HOSTS)} …", flush=True)
    outcome = SCENARIOS[name](platform)
    from django.db import connections

    connections.close_all()
    return outcome


if __name__ == "__main__":
    sys.exit(main())
