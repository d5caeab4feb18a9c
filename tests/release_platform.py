"""Real processes for release tests: a control worker, dispatch workers and beat,
on the test database, with timings short enough for a test."""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from challenges.models import Challenge
from challenges.services import challenge_publish
from dispatch.models import Destination, Transaction, TransactionState
from foundation.content_store import artifact_store
from tests.factories import ChallengeFactory
from tests.processes import BeatProcess, CeleryProcess, WorkerProcess, stop_together
from tests.servers import grown_with_load, wait_until

FAST = {
    "PPIPE_RELEASE_TICK_SECONDS": "1",
    "PPIPE_REAPER_SECONDS": "1",
    "PPIPE_DISPATCH_BACKOFF_SECONDS": "0",
    "PPIPE_DISPATCH_QUEUE_SECONDS": "8",
    "PPIPE_DISPATCH_TIME_LIMIT": "20",
    "PPIPE_DISPATCH_LEASE_GRACE_SECONDS": "1",
    # Tests release into their own temporary folders.
    "PPIPE_LOCAL_DESTINATION_ROOTS": "/tmp",
    # and to S3 and SFTP servers on loopback, which an operator opens like a class network.
    "PPIPE_DESTINATION_ALLOWED_NETWORKS": "127.0.0.0/8",
}


# A transaction's queue deadline and an upload's time limit, raced against the workers:
# on a loaded machine an idle machine's values expire work still under way (sent twice).
GROWN_WITH_LOAD = ("PPIPE_DISPATCH_QUEUE_SECONDS", "PPIPE_DISPATCH_TIME_LIMIT")

# Tests that kill a worker mid-upload wait out its lease (the time limit and the
# grace) before the upload is taken back: they give this shorter limit, still many
# times a replacement worker's full-speed upload (well under a second here), and
# grown with the load as FAST's is.
KILLED_WORKER_TIMINGS = {"PPIPE_DISPATCH_TIME_LIMIT": "8"}


def process_env(**extra: str) -> dict[str, str]:
    """FAST with a test's own values; those raced against the workers (a test's
    shorter time limit too) grow with the load."""
    timings = {**FAST, **extra}
    return {
        **timings,
        "PPIPE_ARTIFACT_DIR": str(settings.PPIPE_ARTIFACT_DIR),
        **grown_with_load(timings, GROWN_WITH_LOAD),
    }


@dataclass
class ReleasePlatform:
    stack: ExitStack
    env: dict[str, str]
    workers: list[WorkerProcess] = field(default_factory=list)
    beats: list[BeatProcess] = field(default_factory=list)
    # Everything started, stopped together when the platform ends (stop_together).
    processes: list[CeleryProcess] = field(default_factory=list)

    def dispatch_worker(self, **extra: str) -> WorkerProcess:
        worker = self._started_dispatch_worker(**extra)
        self.workers.append(worker.wait_ready())
        return worker

    def _started_dispatch_worker(self, **extra: str) -> WorkerProcess:
        worker = WorkerProcess(["dispatch"], **{**self.env, **extra})
        self.processes.append(worker)
        return worker

    def beat(self) -> BeatProcess:
        beat = BeatProcess(**self.env)
        self.processes.append(beat)
        self.beats.append(beat)
        return beat

    @contextmanager
    def restarting_what_exits(self) -> Iterator[None]:
        """Start again any worker or beat that exits, as deploy/ runs them (systemd
        Restart=always, compose restart: unless-stopped): a Celery worker can exit on
        a broker restart (kombu acknowledging on the dead connection)."""
        stop = threading.Event()

        def watch() -> None:
            while not stop.wait(0.5):
                for index, worker in enumerate(self.workers):
                    if not worker.alive():
                        again = WorkerProcess(
                            worker.queues,
                            concurrency=worker.concurrency,
                            pool=worker.pool,
                            **worker.env_extra,
                        )
                        self.processes.append(again)
                        self.workers[index] = again
                for index, beat in enumerate(self.beats):
                    if not beat.alive():
                        self.beats[index] = self.beat()

        watcher = threading.Thread(target=watch, name="restarting", daemon=True)
        watcher.start()
        try:
            yield
        finally:
            stop.set()
            watcher.join(timeout=5)

    def logs(self) -> str:
        return "\n\n".join(worker.log_tail(30) for worker in self.workers)


@contextmanager
def release_platform(
    *, beats: int = 1, dispatch_env: dict[str, str] | None = None, **extra: str
) -> Iterator[ReleasePlatform]:
    env = process_env(**extra)
    with ExitStack() as stack:
        platform = ReleasePlatform(stack=stack, env=env)
        stack.callback(lambda: stop_together(platform.processes))
        control = WorkerProcess(["control"], concurrency=2, **env)
        platform.processes.append(control)
        # The dispatch worker starts while the control worker starts.
        dispatch = (
            None if dispatch_env is None else platform._started_dispatch_worker(**dispatch_env)
        )
        # Beat too: its first ticks wait in the broker until the workers consume.
        for _ in range(beats):
            platform.beat()
        platform.workers.append(control.wait_ready())
        if dispatch is not None:
            platform.workers.append(dispatch.wait_ready())
        yield platform


def dataset_challenge(frame: pd.DataFrame, **fields: Any) -> Challenge:
    content = frame.to_csv(index=False).encode()
    import hashlib

    return ChallengeFactory(
        dataset=SimpleUploadedFile("data.csv", content),
        dataset_sha256=hashlib.sha256(content).hexdigest(),
        dataset_rows=len(frame),
        target_column="label",
        **fields,
    )


def publish_with_releases(
    challenge: Challenge,
    destinations: list[Destination],
    *,
    releases: str,
    interval: int = 1,
    delay: float = 1,
) -> None:
    plan = challenge.release_plan
    plan.first_release_at = timezone.now() + timedelta(seconds=delay)
    plan.release_proportions = releases
    plan.release_interval_seconds = interval
    plan.save()
    plan.destinations.set(destinations)
    challenge_publish(challenge=challenge)


def wait_until_all_ended(
    challenge: Challenge, *, timeout: float, platform: ReleasePlatform
) -> list[Transaction]:
    ended = (TransactionState.DONE, TransactionState.FAILED, TransactionState.CANCELLED)

    def all_ended() -> bool:
        states = Transaction.objects.filter(release__challenge=challenge).values_list(
            "state", flat=True
        )
        return bool(states) and all(state in ended for state in states)

    try:
        wait_until(all_ended, timeout=timeout, what="every transaction to end", interval=0.3)
    except TimeoutError as error:
        summary = list(
            Transaction.objects.filter(release__challenge=challenge).values_list(
                "id", "state", "error"
            )
        )
        raise TimeoutError(f"{error}: {summary}\n{platform.logs()}") from None
    return list(Transaction.objects.filter(release__challenge=challenge).select_related("release"))


def training_rows(challenge: Challenge) -> pd.DataFrame:
    challenge.refresh_from_db()
    return artifact_store().read_frame(challenge.split.train_sha256)


def read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(path.read_bytes()))
