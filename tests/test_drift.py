"""Drift: later releases come from a shifted distribution (ordered by a column, a
class-prior change, added noise), probes send test rows from the newest
release's part of it, and so an endpoint that retrains on new data scores
better on later probes than one that does not."""

from __future__ import annotations

import hashlib
import io
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from sklearn.tree import DecisionTreeClassifier

from challenges import selectors
from challenges.forms import ChallengeForm
from challenges.models import Challenge
from dispatch.models import Release, Transaction, TransactionState
from probing.models import Probe
from probing.services import endpoint_register, probe_record_result, probes_schedule
from receipts.selectors import release_rows
from tests.factories import ChallengeFactory, DestinationFactory, iris_csv
from tests.release_platform import publish_with_releases
from tests.submissions import participants

pytestmark = pytest.mark.django_db

PETAL = "petal length (cm)"


def _published(tmp_path: Path, **drift: Any) -> Challenge:
    # Few rows a probe: the 45 test rows leave room for bands that do not overlap.
    challenge = ChallengeFactory(probe_rows=4, probe_allowed_networks="127.0.0.0/8", **drift)
    folder = DestinationFactory(owner=challenge.owner, path=str(tmp_path / "share"))
    publish_with_releases(challenge, [folder], releases="3", delay=0)
    return challenge


def _releases(challenge: Challenge) -> list[pd.DataFrame]:
    return [
        release_rows(r) for r in Release.objects.filter(challenge=challenge).order_by("sequence")
    ]


def _deliver_up_to(challenge: Challenge, sequence: int) -> None:
    Transaction.objects.filter(
        release__challenge=challenge, release__sequence__lte=sequence
    ).update(state=TransactionState.DONE, finished_at=timezone.now())


def test_ordered_by_a_column_releases_it_in_order(tmp_path: Path) -> None:
    first, second, third = _releases(_published(tmp_path, drift="ordered", drift_column=PETAL))

    assert first[PETAL].max() <= second[PETAL].min()
    assert second[PETAL].max() <= third[PETAL].min()


def test_a_class_prior_change_brings_the_classes_in_turn(tmp_path: Path) -> None:
    releases = _releases(_published(tmp_path, drift="class_prior", drift_strength=1.0))

    dominant = [r["species"].value_counts(normalize=True) for r in releases]
    assert [d.index[0] for d in dominant] == ["setosa", "versicolor", "virginica"]
    assert all(d.iloc[0] > 0.8 for d in dominant)


def test_added_noise_grows_release_after_release(tmp_path: Path) -> None:
    original = pd.read_csv(io.BytesIO(iris_csv()))
    original.insert(0, "flower", [f"F{n:03d}" for n in range(len(original))])
    data = original.to_csv(index=False).encode()
    releases = _releases(
        _published(
            tmp_path,
            drift="noise",
            drift_strength=1.0,
            id_column="flower",
            dataset=ContentFile(data, name="iris.csv"),
            dataset_sha256=hashlib.sha256(data).hexdigest(),
        )
    )

    def distance(release: pd.DataFrame) -> float:
        # Each released row against the dataset's row it came from, by id.
        clean = original.set_index("flower").loc[release["flower"], PETAL].to_numpy()
        return float(np.abs(release[PETAL].to_numpy() - clean).mean())

    first, _, last = (distance(release) for release in releases)
    assert last > 3 * first
    for release in releases:  # the labels and ids are untouched
        by_id = original.set_index("flower").loc[release["flower"], "species"]
        assert (release["species"].to_numpy() == by_id.to_numpy()).all()


def _probe_rows_now(challenge: Challenge, when: datetime) -> list[Probe]:
    Probe.objects.all().delete()
    challenge.endpoints.update(next_probe_at=when)
    probes_schedule(send=lambda job: None, now=when)
    return list(Probe.objects.filter(endpoint__challenge=challenge))


def test_probes_send_the_test_rows_of_the_newest_release(tmp_path: Path) -> None:
    challenge = _published(tmp_path, drift="ordered", drift_column=PETAL)
    (student,) = participants(challenge, 1)
    endpoint_register(participant=student, url="http://127.0.0.1:9/", protocol="json")
    features = selectors.test_features(challenge.split.test_features_sha256)

    _deliver_up_to(challenge, 1)
    (early,) = _probe_rows_now(challenge, timezone.now())
    _deliver_up_to(challenge, 3)
    (late,) = _probe_rows_now(challenge, timezone.now())

    assert early.drift_time is not None
    assert late.drift_time is not None
    assert early.drift_time < late.drift_time
    assert features[PETAL].iloc[early.rows].max() < features[PETAL].iloc[late.rows].min()


def test_an_endpoint_that_retrains_scores_better_on_later_probes(tmp_path: Path) -> None:
    challenge = _published(tmp_path, drift="class_prior", drift_strength=1.0)
    stale_student, fresh_student = participants(challenge, 2)
    for student in (stale_student, fresh_student):
        endpoint_register(participant=student, url="http://127.0.0.1:9/", protocol="json")
    first, _, last = _releases(challenge)

    def model(release: pd.DataFrame) -> DecisionTreeClassifier:
        return DecisionTreeClassifier(random_state=0).fit(
            release.drop(columns=["species"]), release["species"]
        )

    stale, fresh = model(first), model(last)  # one never retrained after release 1
    _deliver_up_to(challenge, 3)
    features = selectors.test_features(challenge.split.test_features_sha256)
    for probe in _probe_rows_now(challenge, timezone.now()):
        served = stale if probe.endpoint.participant == stale_student else fresh
        predictions = served.predict(features.iloc[probe.rows]).tolist()
        probe_record_result(
            result={
                "probe_id": probe.id,
                "outcome": "ok",
                "predictions": predictions,
                "total_ms": 5.0,
            }
        )

    scores = {p.endpoint.participant_id: p.score for p in Probe.objects.select_related("endpoint")}
    assert scores[fresh_student.id] > scores[stale_student.id] + 0.5
    assert selectors.hidden_labels(challenge.split.labels_sha256)["time"].between(0, 1).all()


@pytest.mark.parametrize(
    ("drift", "field", "message"),
    [
        ({"drift": "ordered"}, "drift_column", "Name the column to order the releases by"),
        ({"drift": "ordered", "drift_column": "colour"}, "drift_column", "'colour' is not one"),
        ({"drift": "noise", "drift_strength": "2"}, "drift_strength", "less than or equal to 1"),
    ],
)
def test_a_bad_drift_setting_says_what_to_fix(
    teacher: Any, drift: dict[str, str], field: str, message: str
) -> None:
    data = {
        "name": "Iris drift",
        "slug": "iris-drift",
        "target_column": "species",
        "task_type": "classification",
        "metric": "accuracy",
        "test_fraction": 0.3,
        "private_fraction": 0.5,
        "split_seed": 1,
        "opens_at": timezone.now(),
        "closes_at": timezone.now() + pd.Timedelta(days=3),
        "cpu_seconds_limit": 60,
        "memory_mb_limit": 512,
        "wall_seconds_limit": 120,
        "submissions_per_day": 5,
        "release_proportions": "1",
        "release_interval_seconds": 60,
        "release_format": "csv",
        **drift,
    }
    form = ChallengeForm(
        data=data, files={"dataset": SimpleUploadedFile("iris.csv", iris_csv(), "text/csv")}
    )

    assert not form.is_valid()
    assert message in " ".join(form.errors.get(field, [])), form.errors.as_json()
    assert not Challenge.objects.filter(slug="iris-drift").exists()
