"""Leaderboard latency under load: 10,000 submissions from 300 participants.

Serves the site with gunicorn as `make run` does (2 workers x 4 threads) on
PostgreSQL, and has 20 concurrent clients read, with API tokens, the leaderboard
JSON, the leaderboard page and the page's polls (one whose version is current,
answered 204, and one that gets the fragment), then, uncached, the JSON and the
page while results arrive (a score changes twice a second). The baseline in the
same run is the challenge's description (GET /api/challenges/{slug}/: one row and
its release schedule, through the same authentication and middleware). Prints
p50/p95 and the ratio of p95s, and the SQL queries a leaderboard costs (counted
in-process) for a small and the large challenge.

    .venv/bin/python bench/leaderboard_latency.py [--clients 20] [--requests 400]
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import re
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path

from harness import ROOT, bench_platform


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def seed(slug: str, participants: int, submissions: int) -> object:
    """A published challenge with scored, failed and cancelled submissions (bulk rows)."""
    from django.contrib.auth.models import User
    from django.utils import timezone

    from challenges.models import Participant
    from judging.models import Submission, SubmissionState
    from tests.submissions import published_challenge

    challenge = published_challenge(slug=slug, name=slug)
    users = User.objects.bulk_create(
        [User(username=f"{slug}-student-{n}") for n in range(participants)]
    )
    people = Participant.objects.bulk_create(
        [Participant(challenge=challenge, user=user) for user in users]
    )
    rng = random.Random(0)
    start = timezone.now() - timedelta(days=10)
    rows = []
    for _ in range(submissions):
        state = rng.choices(
            [SubmissionState.SCORED, SubmissionState.FAILED, SubmissionState.CANCELLED],
            weights=[8, 1, 1],
        )[0]
        scored = state == SubmissionState.SCORED
        rows.append(
            Submission(
                challenge=challenge,
                participant=rng.choice(people),
                code_sha256="0" * 64,
                code_bytes=500,
                state=state,
                public_score=rng.uniform(0.5, 1.0) if scored else None,
                private_score=rng.uniform(0.5, 1.0) if scored else None,
                cv_mean=rng.uniform(0.5, 1.0) if scored else None,
                cv_std=rng.uniform(0, 0.05) if scored else None,
                cpu_seconds=rng.uniform(0.5, 60) if scored else None,
                peak_memory_mb=rng.uniform(80, 900) if scored else None,
                fit_seconds=rng.uniform(0.2, 30) if scored else None,
            )
        )
    created = Submission.objects.bulk_create(rows, batch_size=2000)
    # created_at is auto_now_add: spread the uploads over ten days afterwards.
    for index, row in enumerate(created):
        row.created_at = start + timedelta(seconds=index * 86.4)
    Submission.objects.bulk_update(created, ["created_at"], batch_size=2000)
    # The planner's statistics, as autovacuum would gather them within a minute of
    # the seeding: without them it guesses 50 rows for a challenge of 10,000.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return challenge


def query_count(challenge: object) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from judging.leaderboard import leaderboard

    with CaptureQueriesContext(connection) as queries:
        leaderboard(challenge)  # type: ignore[arg-type]
    return len(queries)


def load(
    url: str, token: str, session: str, clients: int, requests: int
) -> tuple[list[float], int]:
    import httpx

    # The API reads the token, the page the session cookie.
    headers = {"Authorization": f"Token {token}"}
    errors = 0

    def one(_: int) -> float:
        nonlocal errors
        # A generous timeout: on a loaded machine a slow answer is a figure, not an error.
        with httpx.Client(headers=headers, cookies={"sessionid": session}, timeout=300) as client:
            began = time.perf_counter()
            response = client.get(url)
            elapsed = time.perf_counter() - began
            # A poll whose version is current answers 204 (nothing to swap).
            if response.status_code not in (200, 204):
                errors += 1
            return elapsed

    with ThreadPoolExecutor(clients) as pool:
        times = list(pool.map(one, range(requests)))
    return times, errors


RESULTS_PER_SECOND = 2  # a class of 200 at its busiest: a result every half second


@contextmanager
def results_arriving(challenge: object, per_second: float) -> Iterator[None]:
    """A scored submission's score changes `per_second` times a second (the kept
    standings' triggers run as for a recorded result) while the block runs."""
    import threading

    from django.db import connection

    from challenges.models import Challenge
    from judging.models import Submission, SubmissionState

    assert isinstance(challenge, Challenge)
    scored = list(
        Submission.objects.filter(challenge=challenge, state=SubmissionState.SCORED).values_list(
            "id", flat=True
        )
    )
    stop = threading.Event()

    def record() -> None:
        rng = random.Random(1)
        try:
            while not stop.wait(1 / per_second):
                Submission.objects.filter(id=rng.choice(scored)).update(
                    public_score=rng.uniform(0.5, 1.0), cv_mean=rng.uniform(0.5, 1.0)
                )
        finally:
            connection.close()

    writer = threading.Thread(target=record, name="results-arriving")
    writer.start()
    try:
        yield
    finally:
        stop.set()
        writer.join()


def board_version(base: str, session: str) -> str:
    """The version the leaderboard page's polled fragment carries (its hx-get's v=)."""
    import httpx

    page = httpx.get(f"{base}/challenges/large/leaderboard/", cookies={"sessionid": session})
    found = re.search(r'hx-get="[^"]*[?&]amp;v=([0-9a-f]+)"', page.text)
    if found is None:
        raise SystemExit(
            f"The leaderboard page ({page.status_code}) polls nothing: is the challenge open?"
        )
    return found.group(1)


def p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=20)[-1]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--participants", type=int, default=300)
    parser.add_argument("--submissions", type=int, default=10_000)
    args = parser.parse_args()
    logging.getLogger("httpx").setLevel(logging.WARNING)

    with bench_platform() as platform:
        from django.core.management import call_command
        from django.test import Client
        from rest_framework.authtoken.models import Token

        from foundation.accounts import admin_account_ensure

        # The pages' static files, as `make run` collects them (the manifest names them).
        call_command("collectstatic", interactive=False, verbosity=0)
        print("Seeding …", flush=True)
        small = seed("small", 3, 10)
        large = seed("large", args.participants, args.submissions)
        admin = admin_account_ensure().user
        token = Token.objects.create(user=admin).key
        browser = Client()
        browser.force_login(admin)
        session = browser.cookies["sessionid"].value
        print(
            f"Queries per leaderboard: {query_count(small)} for 10 submissions, "
            f"{query_count(large)} for {args.submissions}",
            flush=True,
        )

        results = {}
        for cache_seconds in ("5", "0"):
            # One token reads the leaderboard hundreds of times a minute: the bench
            # measures the query, not the students' rate limit.
            with gunicorn(
                platform.work,
                PPIPE_LEADERBOARD_CACHE_SECONDS=cache_seconds,
                PPIPE_THROTTLE_LEADERBOARD_PER_MINUTE="1000000",
            ) as base:
                version = board_version(base, session)
                poll = f"/challenges/large/leaderboard/live/?order=rank&v={version}"
                cases = [
                    ("baseline: challenge description", f"{base}/api/challenges/large/"),
                    (
                        f"leaderboard JSON, cache {cache_seconds} s",
                        f"{base}/api/challenges/large/leaderboard/",
                    ),
                    (
                        f"leaderboard page, cache {cache_seconds} s",
                        f"{base}/challenges/large/leaderboard/",
                    ),
                    # What each open page does every 5 s: most polls find nothing new.
                    (f"poll, nothing new, cache {cache_seconds} s", f"{base}{poll}"),
                    (
                        f"poll, changed, cache {cache_seconds} s",
                        f"{base}/challenges/large/leaderboard/live/?order=rank",
                    ),
                ]
                for label, url in cases:
                    load(url, token, session, args.clients, args.clients)  # warm every thread
                    times, errors = load(url, token, session, args.clients, args.requests)
                    results.setdefault(label, []).append(
                        (statistics.median(times), p95(times), errors)
                    )
                if cache_seconds != "0":
                    continue
                # What is reused while nothing moves is rebuilt after each result: with
                # results arriving, the uncached figures are those of a class at work.
                for label, url in cases[1:3]:
                    label = f"{label.split(',')[0]}, {RESULTS_PER_SECOND} results/s, cache 0 s"
                    with results_arriving(large, RESULTS_PER_SECOND):
                        times, errors = load(url, token, session, args.clients, args.requests)
                    results[label] = [(statistics.median(times), p95(times), errors)]
        # The baseline ran twice (once per server): its mean is the reference.
        baseline = results.pop("baseline: challenge description")
        baseline_p95 = statistics.mean(p95_value for _, p95_value, _ in baseline)
        print(f"\n{args.clients} clients, {args.requests} requests each case:")
        print(f"{'case':34} {'p50 ms':>8} {'p95 ms':>8} {'errors':>7} {'p95 ratio':>10}")
        baseline_p50 = statistics.mean(p50 for p50, _, _ in baseline)
        baseline_errors = sum(errors for _, _, errors in baseline)
        rows = [("baseline: challenge description", baseline_p50, baseline_p95, baseline_errors)]
        rows += [(label, *runs[0]) for label, runs in results.items()]
        for label, p50, p95_value, errors in rows:
            print(
                f"{label:34} {p50 * 1000:8.1f} {p95_value * 1000:8.1f} {errors:7d} "
                f"{p95_value / baseline_p95:10.2f}"
            )


@contextmanager
def gunicorn(work: Path, **env: str) -> Iterator[str]:
    """The site under gunicorn as `make run` serves it; yields its base URL."""
    import httpx

    port = _free_port()
    with (work / "gunicorn.log").open("ab") as log:
        server = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "ppipe_site.wsgi",
                *("--bind", f"127.0.0.1:{port}", "--workers", "2", "--threads", "4"),
            ],
            cwd=ROOT,
            stdout=log,
            stderr=log,
            env={**os.environ, **env},
        )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                httpx.get(f"{base}/healthz", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=60)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


if __name__ == "__main__":
    main()
