"""The whole path: beat claims due releases, Redis carries them, a dispatch worker
uploads with rclone and verifies, the control worker records: three releases a
second apart arrive at the destination row for row."""

from __future__ import annotations

import itertools
from pathlib import Path

import pandas as pd
import pytest

from dispatch.models import TransactionState
from tests.factories import ChallengeFactory, DestinationFactory
from tests.release_platform import (
    publish_with_releases,
    read_csv,
    release_platform,
    training_rows,
    wait_until_all_ended,
)


@pytest.mark.django_db(transaction=True)
def test_three_releases_a_second_apart_arrive_row_for_row(tmp_path: Path) -> None:
    # Shell syntax in the name: it must reach no shell on the way.
    challenge = ChallengeFactory(name=f"$(touch {tmp_path}/pwned) iris")
    destination = DestinationFactory(owner=challenge.owner, path=str(tmp_path / "students"))

    with release_platform(dispatch_env={}) as platform:
        publish_with_releases(challenge, [destination], releases="3", interval=1)
        transactions = wait_until_all_ended(challenge, timeout=90, platform=platform)

    assert [tx.state for tx in transactions] == [TransactionState.DONE] * 3
    folder = tmp_path / "students" / challenge.slug
    assert sorted(p.name for p in folder.iterdir()) == [
        "release-001.csv",
        "release-002.csv",
        "release-003.csv",
    ]
    released = pd.concat(
        [read_csv(folder / f"release-00{n}.csv") for n in (1, 2, 3)], ignore_index=True
    )
    assert released.equals(training_rows(challenge).reset_index(drop=True))
    due = sorted(tx.release.due_at for tx in transactions)
    assert [(b - a).total_seconds() for a, b in itertools.pairwise(due)] == [1.0, 1.0]
    assert all(tx.finished_at >= tx.release.due_at for tx in transactions)
    assert not (tmp_path / "pwned").exists()
