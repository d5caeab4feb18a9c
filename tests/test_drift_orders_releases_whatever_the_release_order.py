"""With drift on, the drift's time decides what each release holds: a challenge left
at the shuffled release order still releases its rows in the drift's order."""

from __future__ import annotations

from pathlib import Path

import pytest

from dispatch.models import Release
from tests.factories import ChallengeFactory, DestinationFactory
from tests.release_platform import publish_with_releases, training_rows

pytestmark = pytest.mark.django_db
PETAL = "petal length (cm)"


def test_ordered_drift_releases_by_its_column_though_the_order_says_shuffled(
    tmp_path: Path,
) -> None:
    challenge = ChallengeFactory(release_order="shuffled", drift="ordered", drift_column=PETAL)
    folder = DestinationFactory(owner=challenge.owner, path=str(tmp_path / "share"))

    publish_with_releases(challenge, [folder], releases="3", delay=0)

    train = training_rows(challenge)
    first, second, third = (
        train[PETAL].iloc[r.row_start : r.row_stop]
        for r in Release.objects.filter(challenge=challenge).order_by("sequence")
    )
    assert first.max() <= second.min()
    assert second.max() <= third.min()


def test_a_class_prior_change_brings_the_classes_in_turn_though_shuffled(tmp_path: Path) -> None:
    challenge = ChallengeFactory(release_order="shuffled", drift="class_prior", drift_strength=1.0)
    folder = DestinationFactory(owner=challenge.owner, path=str(tmp_path / "share"))

    publish_with_releases(challenge, [folder], releases="3", delay=0)

    train = training_rows(challenge)
    species_of_each_release = [
        set(train["species"].iloc[r.row_start : r.row_stop])
        for r in Release.objects.filter(challenge=challenge).order_by("sequence")
    ]
    assert species_of_each_release == [{"setosa"}, {"versicolor"}, {"virginica"}]
