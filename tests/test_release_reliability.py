"""Releases survive what goes wrong in a real deployment: a dispatch worker killed
mid-upload, Redis restarting, two beats by mistake, a destination that refuses.
Every transaction ends; none is recorded twice; the files hold the intended rows once."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from django.utils import timezone

from dispatch.models import Transaction, TransactionEvent, TransactionState
from dispatch.services import transaction_cancel
from dispatch.tasks import revoke_task
from tests.factories import ChallengeFactory, DestinationFactory
from tests.release_platform import (
    KILLED_WORKER_TIMINGS,
    dataset_challenge,
    publish_with_releases,
    read_csv,
    release_platform,
    training_rows,
    wait_until_all_ended,
)
from tests.servers import RcloneServer, RedisServer, wait_until

DONE = TransactionState.DONE


def recorded_once(transactions: list[Transaction]) -> bool:
    return all(
        TransactionEvent.objects.filter(
            transaction=tx, state=DONE, message__contains="bytes, verified"
        ).count()
        == 1
        for tx in transactions
    )


def released_rows(folder: Path, count: int) -> pd.DataFrame:
    return pd.concat(
        [read_csv(folder / f"release-{n:03d}.csv") for n in range(1, count + 1)], ignore_index=True
    )


@pytest.mark.django_db(transaction=True)
def test_a_dispatch_worker_killed_mid_upload_is_replaced_and_the_release_completes(
    tmp_path: Path,
) -> None:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(rng.normal(size=(12_000, 12)), columns=[f"f{i}" for i in range(12)])
    frame["label"] = np.where(frame["f0"] > 0, "pos", "neg")
    challenge = dataset_challenge(frame, test_fraction=0.2)
    destination = DestinationFactory(owner=challenge.owner, path=str(tmp_path / "out"))

    # A slow link: the upload of about 2 MB takes seconds, long enough to kill it.
    # Its worker starts while the control worker starts.
    slow_link = {"RCLONE_BWLIMIT": "150k"}
    with release_platform(dispatch_env=slow_link, **KILLED_WORKER_TIMINGS) as platform:
        slow = platform.workers[-1]
        publish_with_releases(challenge, [destination], releases="1", delay=0)
        tx = Transaction.objects.get(release__challenge=challenge)
        wait_until(
            lambda: Transaction.objects.get(id=tx.id).state == TransactionState.RUNNING,
            timeout=60,
            what="the upload to start",
        )
        slow.kill()
        platform.dispatch_worker()
        [ended] = wait_until_all_ended(challenge, timeout=120, platform=platform)

    assert ended.state == DONE
    assert ended.attempts == 2
    assert recorded_once([ended])
    landed = read_csv(tmp_path / "out" / challenge.slug / "release-001.csv")
    assert len(landed) == len(training_rows(challenge))
    assert [p.name for p in (tmp_path / "out" / challenge.slug).iterdir()] == ["release-001.csv"]


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[RedisServer]:
    (tmp_path / "redis").mkdir()
    server = RedisServer(tmp_path / "redis").start()
    yield server
    server.stop()


@pytest.mark.django_db(transaction=True)
def test_redis_restarting_mid_run_loses_no_release(tmp_path: Path, own_redis: RedisServer) -> None:
    challenge = ChallengeFactory()
    destination = DestinationFactory(owner=challenge.owner, path=str(tmp_path / "out"))
    broker = {"CELERY_BROKER_URL": own_redis.url, "CELERY_RESULT_BACKEND": own_redis.url}

    with release_platform(dispatch_env={}, **broker) as platform:
        publish_with_releases(challenge, [destination], releases="6", interval=1)
        wait_until(
            lambda: Transaction.objects.filter(release__challenge=challenge, state=DONE).exists(),
            timeout=60,
            what="a first release",
        )
        with platform.restarting_what_exits():
            own_redis.stop()
            time.sleep(2)  # the workers and beat see the broker gone
            own_redis.start()
            transactions = wait_until_all_ended(challenge, timeout=150, platform=platform)

    assert [tx.state for tx in transactions] == [DONE] * 6
    assert recorded_once(transactions)
    released = released_rows(tmp_path / "out" / challenge.slug, 6)
    assert released.equals(training_rows(challenge).reset_index(drop=True))


@pytest.mark.django_db(transaction=True)
def test_two_beats_by_mistake_send_no_transaction_twice(tmp_path: Path) -> None:
    challenge = ChallengeFactory()
    destinations = [
        DestinationFactory(owner=challenge.owner, path=str(tmp_path / f"out{n}")) for n in range(2)
    ]

    with release_platform(beats=2, dispatch_env={}) as platform:
        publish_with_releases(challenge, destinations, releases="5", interval=1)
        transactions = wait_until_all_ended(challenge, timeout=90, platform=platform)

    assert [tx.state for tx in transactions] == [DONE] * 10
    assert [tx.attempts for tx in transactions] == [1] * 10
    queued = TransactionEvent.objects.filter(
        transaction__in=transactions, state=TransactionState.QUEUED
    )
    assert queued.count() == 10
    assert recorded_once(transactions)


@pytest.mark.django_db(transaction=True)
def test_a_refusing_destination_fails_after_bounded_retries_and_others_are_unaffected(
    tmp_path: Path, settings: object
) -> None:
    settings.PPIPE_DISPATCH_MAX_ATTEMPTS = 3  # type: ignore[attr-defined]
    s3 = RcloneServer("s3", tmp_path / "s3", user="teacher", secret="right-secret").start()
    try:
        challenge = ChallengeFactory()
        good = DestinationFactory(owner=challenge.owner, path=str(tmp_path / "good"))
        remote = s3.remote(secret="wrong-secret")
        options = {k: v for k, v in remote["options"].items() if k != "secret_access_key"}  # type: ignore[union-attr]
        refusing = DestinationFactory(
            owner=challenge.owner,
            type="s3",
            path="bucket",
            options=options,
            secret_options={"secret_access_key": "wrong-secret"},
        )
        (tmp_path / "s3" / "bucket").mkdir()
        with release_platform(dispatch_env={}) as platform:
            publish_with_releases(challenge, [good, refusing], releases="2", interval=1)
            transactions = wait_until_all_ended(challenge, timeout=120, platform=platform)
    finally:
        s3.stop()

    by_destination = {(tx.destination_id, tx.release.sequence): tx for tx in transactions}
    assert all(by_destination[(good.id, n)].state == DONE for n in (1, 2))
    for n in (1, 2):
        failed = by_destination[(refusing.id, n)]
        assert failed.state == TransactionState.FAILED
        assert failed.attempts == 3
        assert "403" in failed.error or "Forbidden" in failed.error
        assert "gave up after 3 attempts" in failed.error
        assert "wrong-secret" not in failed.error


@pytest.mark.django_db(transaction=True)
def test_cancel_stops_a_running_upload_and_the_worker_keeps_serving(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    frame = pd.DataFrame(rng.normal(size=(12_000, 12)), columns=[f"f{i}" for i in range(12)])
    frame["label"] = np.where(frame["f0"] > 0, "pos", "neg")
    challenge = dataset_challenge(frame, test_fraction=0.2)
    destination = DestinationFactory(owner=challenge.owner, path=str(tmp_path / "out"))

    with release_platform(dispatch_env={"RCLONE_BWLIMIT": "150k"}) as platform:
        publish_with_releases(challenge, [destination], releases="2", interval=3600, delay=0)
        first = Transaction.objects.get(release__challenge=challenge, release__sequence=1)
        wait_until(
            lambda: Transaction.objects.get(id=first.id).state == TransactionState.RUNNING,
            timeout=60,
            what="the upload to start",
        )
        time.sleep(1)  # mid-upload
        transaction_cancel(transaction=Transaction.objects.get(id=first.id), revoke=revoke_task)
        cancelled_at = time.monotonic()
        # The worker still serves: the next release, moved forward, arrives.
        second = Transaction.objects.get(release__challenge=challenge, release__sequence=2)
        Transaction.objects.filter(id=second.id).update(next_attempt_at=timezone.now())
        wait_until(
            lambda: Transaction.objects.get(id=second.id).state == DONE,
            timeout=90,
            what=f"the next release after the cancel\n{platform.logs()}",
        )
        # Long enough for the slow upload to have finished, had it gone on (the
        # next release's upload, as slow, took part of it).
        time.sleep(max(0.0, 8 - (time.monotonic() - cancelled_at)))
        target = tmp_path / "out" / challenge.slug / "release-001.csv"
        assert not target.exists()

    first.refresh_from_db()
    assert first.state == TransactionState.CANCELLED
    assert not target.exists()
