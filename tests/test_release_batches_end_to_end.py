"""Batches through real processes: beat, Redis, a dispatch worker with its rclone,
a control worker, PostgreSQL. A release to a class's student folders goes as one
message; a folder that cannot be written fails only its own transaction, and a
retry sends only it; a worker killed mid-batch loses none of the batch."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from challenges.models import Challenge
from challenges.services import participant_enroll
from dispatch.models import Transaction, TransactionEvent, TransactionState
from dispatch.services import transaction_retry
from tests.factories import DestinationFactory, UserFactory
from tests.release_platform import (
    KILLED_WORKER_TIMINGS,
    dataset_challenge,
    publish_with_releases,
    read_csv,
    release_platform,
    training_rows,
    wait_until_all_ended,
)
from tests.servers import wait_until

State = TransactionState


def a_class(frame_rows: int, students: int, out: Path, slug: str) -> Challenge:
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(rng.normal(size=(frame_rows, 12)), columns=[f"f{i}" for i in range(12)])
    frame["label"] = np.where(frame["f0"] > 0, "pos", "neg")
    challenge = dataset_challenge(frame, test_fraction=0.2, release_per_participant=True, slug=slug)
    for n in range(students):
        participant_enroll(challenge=challenge, user=UserFactory(username=f"student{n}"))
    destination = DestinationFactory(owner=challenge.owner, path=str(out))
    publish_with_releases(challenge, [destination], releases="1", delay=0)
    return challenge


def delivered_once(tx: Transaction) -> bool:
    return (
        TransactionEvent.objects.filter(
            transaction=tx, state=State.DONE, message__contains="bytes, verified"
        ).count()
        == 1
    )


@pytest.mark.django_db(transaction=True)
def test_a_blocked_folder_fails_alone_and_its_retry_sends_only_it(
    tmp_path: Path, settings: object
) -> None:
    settings.PPIPE_DISPATCH_MAX_ATTEMPTS = 2  # type: ignore[attr-defined]
    out = tmp_path / "out"
    challenge_folder = out / "blocked-class"
    challenge_folder.mkdir(parents=True)
    (challenge_folder / "student2").write_text("a file where the folder should be")

    with release_platform(dispatch_env={}) as platform:
        challenge = a_class(600, 6, out, "blocked-class")
        ended = wait_until_all_ended(challenge, timeout=120, platform=platform)
        by_student = {tx.participant.user.username: tx for tx in ended}  # type: ignore[union-attr]
        blocked = by_student.pop("student2")
        assert blocked.state == State.FAILED
        assert blocked.attempts == 2
        assert all(tx.state == State.DONE and tx.attempts == 1 for tx in by_student.values())
        # The five delivered went in one message, as one batch.
        assert len({tx.task_id for tx in by_student.values()}) == 1
        (challenge_folder / "student2").unlink()

        assert transaction_retry(transaction=blocked)
        wait_until(
            lambda: Transaction.objects.get(id=blocked.id).state == State.DONE,
            timeout=90,
            what=f"the retried transaction\n{platform.logs()}",
        )

    retried = Transaction.objects.get(id=blocked.id)
    assert retried.task_id not in {tx.task_id for tx in by_student.values()}
    for tx in Transaction.objects.filter(id__in=[tx.id for tx in by_student.values()]):
        assert tx.attempts == 1
        assert delivered_once(tx)
        assert TransactionEvent.objects.filter(transaction=tx, state=State.QUEUED).count() == 1
    rows = len(training_rows(challenge))
    for n in range(6):
        assert len(read_csv(challenge_folder / f"student{n}" / "release-001.csv")) == rows


@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_batch_loses_none_of_it(tmp_path: Path) -> None:
    out = tmp_path / "out"

    # A slow link: the batch's three files of about 1 MB take many seconds. Its
    # worker starts while the control worker starts.
    slow_link = {"RCLONE_BWLIMIT": "100k"}
    with release_platform(dispatch_env=slow_link, **KILLED_WORKER_TIMINGS) as platform:
        slow = platform.workers[-1]
        challenge = a_class(6_000, 3, out, "killed-class")
        wait_until(
            lambda: (
                Transaction.objects.filter(
                    release__challenge=challenge, state=State.RUNNING
                ).count()
                == 3
            ),
            timeout=60,
            what="the batch to start",
        )
        slow.kill()
        platform.dispatch_worker()
        ended = wait_until_all_ended(challenge, timeout=150, platform=platform)

    assert [tx.state for tx in ended] == [State.DONE] * 3
    assert all(tx.attempts == 2 and delivered_once(tx) for tx in ended)
    assert all(
        TransactionEvent.objects.filter(transaction=tx, message__contains="past its lease").exists()
        for tx in ended
    )
    rows = training_rows(challenge).reset_index(drop=True)
    for n in range(3):
        landed = read_csv(out / "killed-class" / f"student{n}" / "release-001.csv")
        assert landed[rows.columns].equals(rows)
