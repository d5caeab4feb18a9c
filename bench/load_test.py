"""Load test: 50 concurrent clients against the leaderboard, the submission API
and the admin, with 10,000 submissions in the database, bounded in time.

Serves the site with gunicorn as `make run` does (2 workers x 4 threads) on
PostgreSQL and drives it with locust (headless, bench/locustfile.py): students
read the leaderboard JSON, list and upload submissions with API tokens;
teachers browse the submissions in the admin and the leaderboard page. The
baseline in the same run is the challenge's description (one row through the
same authentication and middleware). Prints p50/p95, requests and errors per
kind, and each p95 against the baseline's.

    pip install '.[bench]'
    .venv/bin/python bench/load_test.py [--clients 50] [--seconds 60]
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
from pathlib import Path

from harness import ROOT, bench_platform
from leaderboard_latency import gunicorn, seed

PASSWORD = "a load-test passphrase"  # noqa: S105 - a throwaway account


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=int, default=60)
    parser.add_argument("--participants", type=int, default=300)
    parser.add_argument("--submissions", type=int, default=10_000)
    args = parser.parse_args()

    with bench_platform() as platform:
        from django.core.management import call_command
        from rest_framework.authtoken.models import Token

        from challenges.models import Participant
        from judging.models import JudgingRules

        # The admin's pages need the static files' manifest, as under `make run`.
        call_command("collectstatic", interactive=False, verbosity=0)
        print("Seeding …", flush=True)
        challenge = seed("load", args.participants, args.submissions)
        JudgingRules.objects.filter(pk=challenge.pk).update(submissions_per_day=100_000)
        students = Participant.objects.filter(challenge=challenge).select_related("user")
        tokens = [Token.objects.create(user=p.user).key for p in students[: args.clients]]
        teacher = challenge.owner  # type: ignore[attr-defined]
        teacher.set_password(PASSWORD)
        teacher.save()
        users = platform.work / "load-users.json"
        users.write_text(
            json.dumps(
                {
                    "slug": "load",
                    "tokens": tokens,
                    "teacher": teacher.username,
                    "password": PASSWORD,
                }
            )
        )
        with gunicorn(platform.work) as base:
            stats = run_locust(base, users, platform.work / "locust", args)
        report(stats, args)


def run_locust(
    base: str, users: Path, prefix: Path, args: argparse.Namespace
) -> list[dict[str, str]]:
    print(f"{args.clients} clients for {args.seconds} s …", flush=True)
    subprocess.run(
        [
            str(Path(sys.executable).parent / "locust"),
            "-f",
            str(ROOT / "bench" / "locustfile.py"),
            "--headless",
            f"--users={args.clients}",
            f"--spawn-rate={args.clients}",
            f"--run-time={args.seconds}s",
            f"--host={base}",
            f"--csv={prefix}",
            "--only-summary",
            "--loglevel=WARNING",
        ],
        check=False,  # locust exits 1 when any request failed; the report says which
        env={**os.environ, "PPIPE_LOAD_USERS": str(users)},
    )
    with Path(f"{prefix}_stats.csv").open() as handle:
        return list(csv.DictReader(handle))


def report(stats: list[dict[str, str]], args: argparse.Namespace) -> None:
    rows = {row["Name"]: row for row in stats if row["Name"] != "Aggregated"}
    baseline = float(rows["baseline: challenge description"]["95%"])
    print(f"\n{args.clients} clients, {args.seconds} s, {args.submissions} submissions:")
    print(
        f"{'request':34} {'count':>7} {'errors':>7} {'p50 ms':>8} {'p95 ms':>8} {'p95 ratio':>10}"
    )
    for name in sorted(rows, key=lambda n: (not n.startswith("baseline"), n)):
        row = rows[name]
        print(
            f"{name:34} {row['Request Count']:>7} {row['Failure Count']:>7} "
            f"{float(row['50%']):7.0f} {float(row['95%']):7.0f} "
            f"{float(row['95%']) / baseline:10.2f}"
        )


if __name__ == "__main__":
    main()
