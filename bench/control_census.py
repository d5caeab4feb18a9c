"""What the control side spent per submission during a bench run: the control
worker's tasks (counted from Celery's task events, so nothing in the platform is
changed to be measured) and PostgreSQL's own counters for the bench's database
(sessions opened, sequential scans of the challenges table, statements).

    census = ControlCensus.start(hostname="control@bench")
    ...  # the run
    census.print_breakdown(submissions=200)
"""

from __future__ import annotations

import threading
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any


def database_counters() -> dict[str, int]:
    """This database's cumulative counters: sessions opened (PostgreSQL 14+),
    transactions committed, and the challenges table's sequential scans."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT sessions, xact_commit FROM pg_stat_database WHERE datname = current_database()"
        )
        sessions, commits = cursor.fetchone()
        cursor.execute(
            "SELECT coalesce(seq_scan, 0), coalesce(seq_tup_read, 0) FROM pg_stat_user_tables "
            "WHERE relname = 'challenges_challenge'"
        )
        scans, rows_read = cursor.fetchone() or (0, 0)
    return {
        "sessions": int(sessions),
        "commits": int(commits),
        "challenge seq scans": int(scans),
        "challenge rows read by seq scans": int(rows_read),
    }


def statements_reset() -> bool:
    """Start counting statements, when the server has pg_stat_statements preloaded
    (bench/harness.py's PPIPE_BENCH_POSTGRES can name one); False when it has not."""
    from django.db import connection

    try:
        with connection.cursor() as cursor:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            cursor.execute("SELECT pg_stat_statements_reset()")
    except Exception:  # not preloaded, or not PostgreSQL
        return False
    return True


def top_statements(limit: int = 15) -> list[tuple[int, float, bool, str]]:
    """This database's statements by total execution time: calls, milliseconds,
    whether a client sent it (False: run inside a function, a trigger's), text."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT calls, total_exec_time, toplevel, query FROM pg_stat_statements "
            "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
            "ORDER BY total_exec_time DESC LIMIT %s",
            [limit],
        )
        return [(int(c), float(t), bool(top), str(q)) for c, t, top, q in cursor.fetchall()]


@dataclass
class ControlCensus:
    hostname: str
    names: dict[str, str] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    runtimes: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    database_before: dict[str, int] = field(default_factory=dict)
    statements: bool = False  # pg_stat_statements counts this run
    # The judge workers' tasks: uuid -> (pid, started, ended), from their events.
    judged: dict[str, list[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stop: threading.Event = field(default_factory=threading.Event)

    @classmethod
    def start(cls, *, hostname: str) -> ControlCensus:
        census = cls(
            hostname=hostname, database_before=database_counters(), statements=statements_reset()
        )
        ready = threading.Event()
        threading.Thread(target=census._listen, args=(ready,), daemon=True).start()
        ready.wait(10)
        return census

    def _listen(self, ready: threading.Event) -> None:
        from foundation.celery import app

        def received(event: dict[str, Any]) -> None:
            if event.get("hostname") == self.hostname:
                self.names[event["uuid"]] = event.get("name") or "?"

        def judge_started(event: dict[str, Any]) -> None:
            if str(event.get("hostname", "")).startswith("judge@"):
                with self._lock:
                    self.judged[event["uuid"]] = [
                        float(event["pid"]),
                        float(event["timestamp"]),
                        0.0,
                    ]

        def ended(event: dict[str, Any]) -> None:
            judged = self.judged.get(event.get("uuid", ""))
            if judged is not None:
                judged[2] = float(event["timestamp"])
            name = self.names.get(event.get("uuid", ""))
            if name is None:
                return
            with self._lock:
                self.counts[name] += 1
                self.runtimes[name] += float(event.get("runtime") or 0.0)

        with app.connection() as connection:
            receiver = app.events.Receiver(
                connection,
                handlers={
                    "task-received": received,
                    "task-started": judge_started,
                    "task-succeeded": ended,
                    "task-failed": ended,
                },
            )
            ready.set()
            for _ in receiver.itercapture(limit=None, timeout=None, wakeup=False):
                if self._stop.is_set():
                    return

    def print_breakdown(self, *, submissions: int) -> None:
        self._stop.set()
        database = database_counters()
        with self._lock:
            counts, runtimes = dict(self.counts), dict(self.runtimes)
        total = sum(counts.values())
        print()
        each = total / submissions
        print(f"control worker ({self.hostname}): {total} tasks, {each:.2f} a submission")
        for name in sorted(counts, key=lambda n: -runtimes[n]):
            count, seconds = counts[name], runtimes[name]
            print(
                f"  {name:48} {count:6d}  {count / submissions:5.2f}/sub  "
                f"{1000 * seconds / count:7.1f} ms each  {seconds:6.1f} s"
            )
        print("PostgreSQL (this bench's database, during the run):")
        for key, value in database.items():
            spent = value - self.database_before.get(key, 0)
            print(f"  {key:34}: {spent:9d}  ({spent / submissions:.2f} a submission)")
        if not self.statements:
            return
        print("PostgreSQL statements by total time (pg_stat_statements; * = inside a function):")
        for calls, milliseconds, toplevel, query in top_statements():
            text = " ".join(query.split())[:110]
            print(
                f"  {milliseconds / 1000:6.2f} s {calls:6d} calls {milliseconds / calls:6.2f} ms "
                f"{calls / submissions:5.1f}/sub {' ' if toplevel else '*'} {text}"
            )

    def print_judge_slots(self, *, processes: int) -> None:
        """Time the judge processes spent outside a job (between a job's end and their
        next one's start: waiting for the next job to reach them, or their own Celery
        work), from their task events: the processes' time from the first start to
        the last end, less the jobs' own."""
        with self._lock:
            runs = [run for run in self.judged.values() if run[2]]
        if not runs:
            return
        span = max(run[2] for run in runs) - min(run[1] for run in runs)
        inside = sum(run[2] - run[1] for run in runs)
        idle = processes * span - inside
        print(
            f"judge slots: {len(runs)} jobs, {processes} processes over {span:.1f} s; "
            f"outside a job {idle:.1f} s in all, {1000 * idle / len(runs):.0f} ms a job"
        )
