"""A prediction that is not one of the challenge's labels (or, for regression,
not a finite number) makes the probe `invalid`, with a detail naming the value,
and no score: an impossible label must never be scored, or a student's server
could answer every row but one with it and read that one row's correctness."""

from __future__ import annotations

from typing import Any

import pytest
from django.utils import timezone

from challenges.models import Challenge
from challenges.selectors import hidden_labels
from probing.models import Probe, ProbeState
from probing.services import endpoint_register, probe_record_result
from tests.submissions import participants, published_challenge

pytestmark = pytest.mark.django_db


def _probe(challenge: Challenge) -> Probe:
    (student,) = participants(challenge, 1)
    endpoint, _ = endpoint_register(
        participant=student, url="http://model.example.org/predict", protocol="json"
    )
    return Probe.objects.create(endpoint=endpoint, scheduled_at=timezone.now(), rows=[0, 1, 2, 3])


def _record(probe: Probe, predictions: list[Any]) -> Probe:
    probe_record_result(
        result={
            "probe_id": probe.id,
            "outcome": "ok",
            "http_status": 200,
            "total_ms": 20.0,
            "predictions": predictions,
        }
    )
    probe.refresh_from_db()
    return probe


def test_one_impossible_label_among_guesses_is_invalid_and_unscored() -> None:
    challenge = published_challenge()
    probe = _probe(challenge)
    truth = list(hidden_labels(challenge.split.labels_sha256)[challenge.target_column].iloc[:4])

    recorded = _record(probe, [truth[0], "no-such-label", "no-such-label", "no-such-label"])

    assert recorded.state == ProbeState.DONE
    assert recorded.outcome == "invalid"
    assert recorded.score is None
    assert not recorded.sla_met
    assert "prediction 2 ('no-such-label') is not one of the challenge's labels" in recorded.detail
    assert "setosa, versicolor, virginica" in recorded.detail


def test_the_same_labels_in_another_type_are_not_labels() -> None:
    probe = _probe(published_challenge())

    recorded = _record(probe, ["setosa", "setosa", 1, "setosa"])

    assert recorded.outcome == "invalid"
    assert "prediction 3 (1) is not one of the challenge's labels" in recorded.detail


def test_a_regression_answer_must_be_finite_numbers() -> None:
    challenge = published_challenge(
        target_column="petal width (cm)", task_type="regression", metric="neg_mean_absolute_error"
    )
    probe = _probe(challenge)

    recorded = _record(probe, [0.2, float("nan"), 1.5, 2.0])

    assert recorded.outcome == "invalid"
    assert "prediction 2 (nan) is not a finite number" in recorded.detail
    assert recorded.score is None
    valid = _record(_probe(challenge), [0.2, 1.0, 1.5, 2.0])
    assert valid.outcome == "ok"
    assert valid.score is not None
