"""A CSV sorted by class (three grapes, 60 rows each) released in four parts: a
challenge created over the API without naming a release order is shuffled, and
every release that lands holds every class; the file's order, chosen, releases the
first grape alone first."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from challenges.models import Challenge
from dispatch.models import Release, TransactionState
from tests.factories import DestinationFactory, TeacherFactory
from tests.release_platform import read_csv, release_platform, training_rows, wait_until_all_ended

GRAPES = ["barolo", "grignolino", "barbera"]


def _sorted_by_class_csv() -> bytes:
    frame = pd.DataFrame(
        {
            "alcohol": [12.0 + (n % 60) / 20 for n in range(180)],
            "hue": [0.5 + (n % 7) / 10 for n in range(180)],
            "grape": [grape for grape in GRAPES for _ in range(60)],
        }
    )
    return frame.to_csv(index=False).encode()


def _create_and_publish(teacher: Any, destination: str, **fields: str) -> Challenge:
    client = APIClient()
    client.force_authenticate(teacher)
    now = timezone.now()
    created = client.post(
        "/api/challenges/",
        {
            "name": "Grapes",
            "slug": "grapes",
            "target_column": "grape",
            "task_type": "classification",
            "metric": "accuracy",
            "opens_at": now.isoformat(),
            "closes_at": (now + timedelta(days=30)).isoformat(),
            "first_release_at": (now + timedelta(seconds=1)).isoformat(),
            "release_proportions": "4",
            "release_interval_seconds": "1",
            "destinations": [destination],
            "dataset": SimpleUploadedFile("grapes.csv", _sorted_by_class_csv(), "text/csv"),
            **fields,
        },
    )
    assert created.status_code == 201, created.json()
    assert client.post("/api/challenges/grapes/publish/").status_code == 200
    return Challenge.objects.get(slug="grapes")


@pytest.mark.django_db(transaction=True)
def test_every_release_that_lands_holds_every_class(tmp_path: Path) -> None:
    teacher = TeacherFactory()
    DestinationFactory(owner=teacher, name="class-share", path=str(tmp_path / "share"))

    with release_platform(dispatch_env={}) as platform:
        challenge = _create_and_publish(teacher, "class-share")
        transactions = wait_until_all_ended(challenge, timeout=90, platform=platform)

    assert challenge.release_order == "shuffled"
    assert [tx.state for tx in transactions] == [TransactionState.DONE] * 4
    for number in (1, 2, 3, 4):
        landed = read_csv(tmp_path / "share" / "grapes" / f"release-00{number}.csv")
        # 126 training rows, 42 of each grape: about 10 or 11 of each per release.
        assert set(landed["grape"]) == set(GRAPES), number
        assert landed["grape"].value_counts().min() >= 9, number


@pytest.mark.django_db
def test_the_files_order_when_chosen_releases_the_first_class_alone_first() -> None:
    teacher = TeacherFactory()
    DestinationFactory(owner=teacher, name="class-share")

    challenge = _create_and_publish(teacher, "class-share", release_order="file")

    train = training_rows(challenge)
    first, last = Release.objects.filter(challenge=challenge).order_by("sequence")[::3]
    assert set(train["grape"].iloc[first.row_start : first.row_stop]) == {"barolo"}
    assert set(train["grape"].iloc[last.row_start : last.row_stop]) == {"barbera"}
