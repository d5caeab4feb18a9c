"""Probe scheduling: one probe worker (a thread pool) keeping 200 endpoints on a
60 s schedule, 32 hidden rows a probe, each endpoint answering in about 50 ms.

Measured through the whole path (beat plans each probe with its time, Redis,
the probe worker sends it, the control worker scores and records it):

- schedule drift: when the worker started a probe against when it was due. The
  baseline, in the same run, is the drift with 10 endpoints (a quiet worker);
  the target is p95 <= 2 s with 200.
- latency fidelity: the latency a probe measured against the server's own time
  for the same request (the server reports it); the baseline is a plain httpx
  client posting the same body to the same server. Target: p50 difference <= 5 ms.

    .venv/bin/python bench/probe_schedule.py [--endpoints 200] [--minutes 3]

Uses PostgreSQL on 127.0.0.1:5432 (or a throwaway pgserver) with a database of its
own, and a Redis server of its own; nothing is left behind.
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import subprocess
import sys
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from harness import BenchPlatform, bench_platform

INTERVAL, ROWS, SERVER_SLEEP = 60, 32, 0.05
QUIET_ENDPOINTS = 10
SETTLE = 20


def serve(port: int, log: Path) -> None:
    """The endpoints: one server, one path per endpoint, ~50 ms per answer, each
    request's own time logged by path in arrival order."""
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            began = time.perf_counter()
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            time.sleep(SERVER_SLEEP)
            answer = json.dumps(
                {"predictions": ["benign"] * len(body["instances"]), "data_version": "1"}
            ).encode()
            server_ms = (time.perf_counter() - began) * 1000
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.send_header("X-Server-Time-Ms", f"{server_ms:.3f}")
            self.end_headers()
            self.wfile.write(answer)
            with lock, log.open("a") as out:
                out.write(json.dumps({"path": self.path, "server_ms": server_ms}) + "\n")

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    server.request_queue_size = 256
    server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--endpoints", type=int, default=200)
    parser.add_argument("--minutes", type=float, default=3.0)
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--log", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.log)
        return
    logging.getLogger("httpx").setLevel(logging.WARNING)
    with bench_platform() as platform:
        run(args, platform)


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _summary(values: list[float], unit: str) -> str:
    return (
        f"p50 {_percentile(values, 0.5):7.3f} {unit}  p95 {_percentile(values, 0.95):7.3f} {unit}"
        f"  max {max(values):7.3f} {unit}  (n={len(values)})"
    )


def _server_times(log: Path) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {}
    for line in log.read_text().splitlines():
        entry = json.loads(line)
        times.setdefault(entry["path"], []).append(entry["server_ms"])
    return times


def _baseline_overheads(url: str, body: bytes, count: int = 100) -> list[float]:
    """A plain client: a new connection per request, as a probe makes."""
    import httpx

    overheads = []
    fresh = httpx.Limits(max_keepalive_connections=0)
    with httpx.Client(limits=fresh, headers={"Content-Type": "application/json"}) as client:
        for _ in range(count):
            began = time.perf_counter()
            response = client.post(url, content=body)
            total = (time.perf_counter() - began) * 1000
            overheads.append(total - float(response.headers["X-Server-Time-Ms"]))
    return overheads


def _wait_recorded(since: Any, until: Any, timeout: float) -> None:
    from probing.models import Probe, ProbeState

    deadline = time.monotonic() + timeout
    window = Probe.objects.filter(scheduled_at__gte=since, scheduled_at__lt=until)
    while window.filter(state=ProbeState.PENDING).exists() and time.monotonic() < deadline:
        time.sleep(1)


def _drifts(since: Any, until: Any) -> list[float]:
    from probing.models import Probe

    probes = Probe.objects.filter(
        scheduled_at__gte=since, scheduled_at__lt=until, started_at__isnull=False
    )
    return [(p.started_at - p.scheduled_at).total_seconds() for p in probes]


def run(args: argparse.Namespace, platform: BenchPlatform) -> None:
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from challenges.models import Challenge
    from challenges.services import participant_enroll
    from foundation.accounts import admin_account_ensure
    from ppipe_site.demo import demo_challenge_ensure
    from probing.models import Probe, ProbeState
    from probing.services import endpoint_register
    from tests.servers import free_port

    port, log = free_port(), platform.work / "server.jsonl"
    log.touch()
    server = subprocess.Popen([sys.executable, __file__, "--serve", str(port), "--log", str(log)])
    platform.processes.append(server)
    challenge, _ = demo_challenge_ensure(owner=admin_account_ensure().user)
    Challenge.objects.filter(pk=challenge.pk).update(
        probe_interval_seconds=INTERVAL, probe_rows=ROWS, probe_allowed_networks="127.0.0.0/8"
    )
    challenge.refresh_from_db()
    students = [
        participant_enroll(
            challenge=challenge, user=get_user_model().objects.create(username=f"s{n}")
        )[0]
        for n in range(args.endpoints)
    ]

    platform.start_celery("worker", "-Q", "control", "-c", "2", "-n", "control@bench")
    platform.start_celery(
        "worker", "-Q", "probe", "--pool", "threads", "-c", "32", "-n", "probe@bench"
    )
    platform.start_celery("beat", "-s", str(platform.work / "beat-schedule"))
    time.sleep(8)

    def register(group: list[Any]) -> None:
        for student in group:
            endpoint_register(
                participant=student,
                url=f"http://127.0.0.1:{port}/e/{student.user.username}",
                protocol="json",
            )

    print(f"quiet: {QUIET_ENDPOINTS} endpoints for {SETTLE + 2 * INTERVAL} s …", flush=True)
    register(students[:QUIET_ENDPOINTS])
    # Measured after beat's first ticks, so start-up is not counted as drift.
    quiet_start = timezone.now() + timedelta(seconds=SETTLE)
    time.sleep(SETTLE + 2 * INTERVAL)
    quiet_end = timezone.now()
    register(students[QUIET_ENDPOINTS:])
    # Every endpoint's first probe falls within one interval of its registration.
    load_start = timezone.now() + timedelta(seconds=INTERVAL)
    load_end = load_start + timedelta(minutes=args.minutes)
    print(
        f"loaded: {args.endpoints} endpoints, measured for {args.minutes:g} min after one "
        "interval to settle …",
        flush=True,
    )
    time.sleep((load_end - timezone.now()).total_seconds())
    _wait_recorded(quiet_start, load_end, timeout=60)

    quiet = _drifts(quiet_start, quiet_end)
    loaded = _drifts(load_start, load_end)
    probes = list(
        Probe.objects.filter(state=ProbeState.DONE, total_ms__isnull=False)
        .select_related("endpoint__participant__user")
        .order_by("endpoint_id", "scheduled_at")
    )
    outcomes = Probe.objects.filter(scheduled_at__gte=load_start, scheduled_at__lt=load_end)
    failed = outcomes.exclude(outcome="ok").count()

    # Pair each probe with the server's time for the same request: per endpoint,
    # requests arrive in the order the probes were scheduled (60 s apart).
    server_times = _server_times(log)
    by_endpoint: dict[int, list[Any]] = {}
    for probe in probes:
        by_endpoint.setdefault(probe.endpoint_id, []).append(probe)
    overheads = []
    for endpoint_probes in by_endpoint.values():
        path = "/e/" + endpoint_probes[0].endpoint.participant.user.username
        for probe, server_ms in zip(endpoint_probes, server_times.get(path, []), strict=False):
            overheads.append(probe.total_ms - server_ms)
    body = json.dumps({"instances": [{"x": 1.0}] * ROWS}).encode()
    baseline = _baseline_overheads(f"http://127.0.0.1:{port}/e/baseline", body)

    print()
    print(f"probes in the measured window: {outcomes.count()}, not ok: {failed}")
    print(f"schedule drift, {QUIET_ENDPOINTS:3} endpoints (baseline): {_summary(quiet, 's')}")
    print(f"schedule drift, {args.endpoints:3} endpoints           : {_summary(loaded, 's')}")
    ratio = _percentile(loaded, 0.95) / max(_percentile(quiet, 0.95), 1e-3)
    print(f"drift p95 ratio loaded / quiet: {ratio:.2f}  (target: p95 <= 2 s)")
    print(f"probe latency - server time   : {_summary(overheads, 'ms')}")
    print(f"plain httpx   - server time   : {_summary(baseline, 'ms')}  (baseline)")
    print(
        f"p50 overhead ratio probe / plain client: "
        f"{statistics.median(overheads) / statistics.median(baseline):.2f}"
        "  (target: p50 difference <= 5 ms)"
    )


if __name__ == "__main__":
    main()
