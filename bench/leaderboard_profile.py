"""Where an uncached leaderboard request's time goes, at 10,000 submissions (and
the admin's submissions list's, for its teacher).

In-process (Django's test client, no server, no cache), on the bench's seeded
challenge: for the challenge's description (the latency bench's baseline), the
leaderboard JSON and the leaderboard page, the median wall and CPU time of a
request, the time spent in SQL (each query timed by a database execute wrapper)
and the rest (Python: rows, table, charts, serialization, rendering), and the
CPU time of the web process and of its PostgreSQL backend (the figure a busy
machine does not distort much: the mean of --repeat). Then the
plan of each SQL query of the JSON (EXPLAIN ANALYZE) and cProfile's top
functions for the page.

    .venv/bin/python bench/leaderboard_profile.py [--repeat 7] [--top 25]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import statistics
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness import bench_platform
from leaderboard_latency import seed


class _SqlTimer:
    """A database execute wrapper: every query's SQL, parameters and wall time."""

    def __init__(self) -> None:
        self.queries: list[tuple[str, Any, float]] = []

    def __call__(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.queries.append((sql, params, time.perf_counter() - began))


def _backend_cpu() -> float:
    """CPU seconds of this connection's PostgreSQL backend so far (from /proc: the
    server runs on this machine), whatever the machine's load does to wall time."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        (pid,) = cursor.fetchone()
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(label: str, request: Callable[[], Any], repeat: int) -> tuple[_SqlTimer, float]:
    from django.db import connection

    walls, cpus, sqls, backend = [], [], [], []
    timer = _SqlTimer()
    for _ in range(repeat):
        timer = _SqlTimer()
        began_backend = _backend_cpu()
        began, began_cpu = time.perf_counter(), time.process_time()
        with connection.execute_wrapper(timer):
            request()
        walls.append(time.perf_counter() - began)
        cpus.append(time.process_time() - began_cpu)
        backend.append(_backend_cpu() - began_backend)
        sqls.append(sum(seconds for _, _, seconds in timer.queries))
    wall, sql = statistics.median(walls), statistics.median(sqls)
    # The kernel counts CPU in clock ticks (10 ms): the mean over the repetitions.
    cpu, db_cpu = statistics.mean(cpus), statistics.mean(backend)
    print(
        f"{label:24} wall {wall * 1000:6.1f} ms (sql {sql * 1000:5.1f}, "
        f"{len(timer.queries)} queries)  cpu: web {cpu * 1000:6.1f} ms + "
        f"postgres {db_cpu * 1000:6.1f} ms = {(cpu + db_cpu) * 1000:6.1f} ms",
        flush=True,
    )
    return timer, cpu + db_cpu


def explain(timer: _SqlTimer) -> None:
    from django.db import connection

    for sql, params, _ in timer.queries:
        if not sql.lstrip().upper().startswith("SELECT"):
            continue
        with connection.cursor() as cursor:
            cursor.execute(f"EXPLAIN (ANALYZE, BUFFERS) {sql}", params)
            plan = "\n".join(line for (line,) in cursor.fetchall())
        print(f"\n-- {sql[:160]}…\n{plan}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--participants", type=int, default=300)
    parser.add_argument("--submissions", type=int, default=10_000)
    parser.add_argument("--no-explain", action="store_true")
    parser.add_argument(
        "--profile", default="leaderboard page", help="the case cProfile follows (its label)"
    )
    args = parser.parse_args()

    with bench_platform(PPIPE_LEADERBOARD_CACHE_SECONDS="0"):
        from django.core.management import call_command
        from django.test import Client
        from rest_framework.authtoken.models import Token

        from foundation.accounts import admin_account_ensure

        call_command("collectstatic", interactive=False, verbosity=0)
        challenge = seed("large", args.participants, args.submissions)
        admin = admin_account_ensure().user
        token = Token.objects.create(user=admin).key
        api = Client(headers={"Authorization": f"Token {token}"}, HTTP_HOST="127.0.0.1")
        browser = Client(HTTP_HOST="127.0.0.1")
        browser.force_login(admin)
        # The challenge's teacher, as the load test's admin clients.
        teacher = Client(HTTP_HOST="127.0.0.1")
        teacher.force_login(challenge.owner)  # type: ignore[attr-defined]

        def get(client: Client, url: str) -> Callable[[], Any]:
            def request() -> Any:
                response = client.get(url)
                assert response.status_code == 200, (url, response.status_code)
                return response

            return request

        cases = {
            "baseline: description": get(api, "/api/challenges/large/"),
            "leaderboard JSON": get(api, "/api/challenges/large/leaderboard/"),
            "leaderboard page": get(browser, "/challenges/large/leaderboard/"),
            "admin: submissions": get(teacher, "/admin/judging/submission/"),
        }
        print(f"load average at the start: {os.getloadavg()}", flush=True)
        for request in cases.values():
            request()  # warm: imports, template loading, the first connection
        measured = {label: measure(label, request, args.repeat) for label, request in cases.items()}
        print(f"load average at the end: {os.getloadavg()}", flush=True)
        baseline = measured["baseline: description"][1]
        for label, (_, cpu) in measured.items():
            print(f"{label:24} cpu / baseline's {cpu / baseline:5.2f}")
        timers = {label: timer for label, (timer, _) in measured.items()}
        if not args.no_explain:
            explain(timers["leaderboard JSON"])
            explain(timers["admin: submissions"])
        profiler = cProfile.Profile()
        profiler.enable()
        cases[args.profile]()
        profiler.disable()
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(args.top)
        print(out.getvalue())
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(args.top)
        print(out.getvalue())


if __name__ == "__main__":
    main()
