"""Judging throughput: 200 small submissions from 20 students on 2 judge processes.

The ideal is the submissions' own CPU time (the sum of what the sandbox measured
for each: fitting and predicting on the folds) divided by the 2 processes: a
platform with no overhead would take that long. Prints the wall time of the
whole path (upload -> feeder -> Redis -> judge worker in bubblewrap -> control
worker scores and records) and its efficiency: ideal / wall. Target >= 0.85.

    .venv/bin/python bench/judge_throughput.py [--students 20] [--each 10]
"""

from __future__ import annotations

import argparse
import statistics
import time

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


def run(args: argparse.Namespace, platform: BenchPlatform) -> None:
    from django.contrib.auth import get_user_model

    from challenges.demo import demo_challenge_ensure
    from challenges.models import Challenge
    from challenges.services import participant_enroll
    from judging.models import ENDED_STATES, Submission, SubmissionState
    from judging.services import submission_create
    from ppipe_site.accounts import admin_account_ensure

    challenge, _ = demo_challenge_ensure(owner=admin_account_ensure().user)
    Challenge.objects.filter(pk=challenge.pk).update(submissions_per_day=args.each)
    challenge.refresh_from_db()
    students = [
        participant_enroll(
            challenge=challenge,
            user=get_user_model().objects.create(username=f"s{n}"),
        )[0]
        for n in range(args.students)
    ]
    platform.start_celery("worker", "-Q", "control", "-c", "2", "-n", "control@bench")
    platform.start_celery(
        "worker", "-Q", "judge", "-c", str(args.judge_concurrency), "-n", "judge@bench"
    )
    time.sleep(10)  # workers up (and their sandboxes warm) before the clock starts
    total = args.students * args.each
    print(f"{total} submissions from {args.students} students …", flush=True)
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


if __name__ == "__main__":
    main()
