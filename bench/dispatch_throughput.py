"""Dispatch throughput: the whole release path against a bare rclone loop.

Publishes a challenge whose 500 transactions (50 releases x 10 local destinations,
each file about 1 MB of CSV) are all due at once, and times them through the whole
path: beat -> Redis -> dispatch worker -> rclone copy -> verify -> control worker
records. In the same run, a plain loop of `rclone copyto` of the same 500 files is
the baseline. Prints transactions per second for both and their ratio.

    .venv/bin/python bench/dispatch_throughput.py [--releases 50] [--destinations 10]

Uses PostgreSQL on 127.0.0.1:5432 (or a throwaway pgserver) with a database of its
own, and a Redis server of its own; nothing is left behind.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import tempfile
import time

from harness import BenchPlatform, bench_platform


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--releases", type=int, default=50)
    parser.add_argument("--destinations", type=int, default=10)
    parser.add_argument("--dispatch-concurrency", type=int, default=2)
    args = parser.parse_args()

    with bench_platform(
        PPIPE_RELEASE_TICK_SECONDS="1",
        PPIPE_DISPATCH_BATCH="1000",
        PPIPE_DISPATCH_QUEUE_SECONDS="900",
        # The destinations are folders below the benchmark's temporary folder.
        PPIPE_LOCAL_DESTINATION_ROOTS=tempfile.gettempdir(),
    ) as platform:
        run(args, platform)


def run(args: argparse.Namespace, platform: BenchPlatform) -> None:
    work = platform.work
    import numpy as np
    import pandas as pd
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.utils import timezone

    from challenges.forms import ChallengeForms
    from challenges.services import challenge_publish
    from dispatch.models import Destination, Transaction, TransactionState
    from foundation.accounts import admin_account_ensure
    from foundation.content_store import artifact_store
    from worker_wing.release.executor import serialise
    from worker_wing.release.rclone import rclone_binary

    # About 1 MB of CSV per release: 20 float columns print ~380 bytes a row.
    rows_per_release = 2700
    train_rows = rows_per_release * args.releases
    total = int(train_rows / 0.9) + 1
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(rng.normal(size=(total, 20)), columns=[f"f{i}" for i in range(20)])
    frame["label"] = np.where(frame["f0"] > 0, "pos", "neg")
    owner = admin_account_ensure().user
    destinations = [
        Destination.objects.create(
            owner=owner, name=f"d{n}", type="local", path=str(work / "out" / f"d{n}")
        )
        for n in range(args.destinations)
    ]
    now = timezone.now()
    form = ChallengeForms(
        data={
            "name": "bench",
            "slug": "bench",
            "target_column": "label",
            "task_type": "classification",
            "metric": "accuracy",
            "test_fraction": 0.1,
            "private_fraction": 0.5,
            "split_seed": 1,
            "opens_at": now,
            "closes_at": now + timezone.timedelta(days=1),
            "cpu_seconds_limit": 10,
            "memory_mb_limit": 512,
            "wall_seconds_limit": 10,
            "submissions_per_day": 1,
            "first_release_at": now + timezone.timedelta(seconds=3600),
            "release_proportions": str(args.releases),
            "release_interval_seconds": 1,
            "release_format": "csv",
            "destinations": [d.pk for d in destinations],
        },
        files={"dataset": SimpleUploadedFile("bench.csv", frame.to_csv(index=False).encode())},
    )
    assert form.is_valid(), form.errors
    challenge = form.save(owner=owner)
    print(f"Publishing: {args.releases} releases x {args.destinations} destinations …", flush=True)
    challenge_publish(challenge=challenge)
    count = Transaction.objects.filter(release__challenge=challenge).count()

    # The baseline's files: the same slices, materialised ahead (not timed).
    train = artifact_store().read_frame(challenge.split.train_sha256)
    baseline_dir = work / "baseline-src"
    baseline_dir.mkdir()
    sources = []
    for tx in Transaction.objects.filter(release__challenge=challenge).select_related("release"):
        path = baseline_dir / f"{tx.id}.csv"
        path.write_bytes(serialise(train.iloc[tx.release.row_start : tx.release.row_stop], "csv"))
        sources.append(path)
    size = sum(path.stat().st_size for path in sources) / len(sources)

    print(
        f"Baseline: a plain loop of rclone copyto, {len(sources)} files of {size / 1e6:.2f} MB …",
        flush=True,
    )
    rclone = rclone_binary()
    # As the platform runs it: no configuration file (else rclone notices its absence
    # on every call, 500 lines of noise).
    bare_env = {**os.environ, "RCLONE_CONFIG": os.devnull}
    started = time.perf_counter()
    for number, path in enumerate(sources):
        subprocess.run(
            [rclone, "copyto", str(path), str(work / "baseline-dst" / f"{number}.csv")],
            check=True,
            env=bare_env,
        )
    baseline = time.perf_counter() - started

    platform.start_celery("worker", "-Q", "control", "-c", "2", "-n", "control@bench")
    platform.start_celery(
        "worker", "-Q", "dispatch", "-c", str(args.dispatch_concurrency), "-n", "dispatch@bench"
    )
    time.sleep(8)  # workers up before the clock starts
    print(
        f"Whole path: {count} transactions, {args.dispatch_concurrency} dispatch process(es) …",
        flush=True,
    )
    Transaction.objects.filter(release__challenge=challenge).update(next_attempt_at=timezone.now())
    started = time.perf_counter()
    platform.start_celery("beat", "-s", str(work / "beat-schedule"))
    done = 0
    while done < count:
        time.sleep(0.2)
        done = Transaction.objects.filter(
            release__challenge=challenge, state=TransactionState.DONE
        ).count()
        failed = Transaction.objects.filter(
            release__challenge=challenge, state=TransactionState.FAILED
        ).count()
        if failed:
            example = Transaction.objects.filter(state=TransactionState.FAILED).first()
            raise SystemExit(f"{failed} transactions failed, e.g.: {example.error}")  # type: ignore[union-attr]
    whole = time.perf_counter() - started

    print()
    print(f"bare rclone loop : {count / baseline:7.1f} files/s        ({baseline:.1f} s)")
    print(
        f"whole path       : {count / whole:7.1f} transactions/s "
        f"({whole:.1f} s, incl. first beat tick)"
    )
    print(f"ratio (whole path time / bare loop time): {whole / baseline:.2f}  (target <= 0.5)")


if __name__ == "__main__":
    main()
