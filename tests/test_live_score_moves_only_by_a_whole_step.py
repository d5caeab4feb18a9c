"""The published live score is rounded to a step no finer than the standard
error of its rows (1/sqrt(rows) of the metric's range, at most
PPIPE_PROBE_SCORE_STEPS steps), and replaces the standing value only when the
measured score moved by a whole step (Blum & Hardt's ladder). Played through
the publishing service on real probes, read through the API."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from challenges.models import Challenge
from challenges.selectors import hidden_labels
from probing.models import Endpoint, Probe, ScorePublication
from probing.publication import Scale, ladder, metric_scale, publication_slot, step_divisions
from probing.services import endpoint_register, probe_record_result, scores_publish
from tests.submissions import participants, published_challenge
from tests.test_api_challenges import token_client

pytestmark = pytest.mark.django_db

HOURS = 6
ROWS = 10  # per probe


@pytest.mark.parametrize(
    ("rows", "divisions"), [(0, 1), (3, 1), (400, 20), (1000, 25), (2500, 50), (10**6, 50)]
)
def test_the_step_is_never_finer_than_one_over_the_root_of_the_rows(
    rows: int, divisions: int
) -> None:
    assert step_divisions(rows, 50) == divisions
    assert divisions == 1 or divisions <= rows**0.5


def test_the_ladder_keeps_the_standing_value_until_a_whole_step() -> None:
    share = Scale(0.0, 1.0)

    first = ladder(measured=0.8137, standing=None, scale=share, rows=400, max_steps=50)
    small = ladder(measured=0.849, standing=first.score, scale=share, rows=400, max_steps=50)
    large = ladder(measured=0.851, standing=first.score, scale=share, rows=400, max_steps=50)
    signed = ladder(measured=0.33, standing=None, scale=metric_scale("r2"), rows=400, max_steps=50)

    assert (first.score, first.step, first.changed) == (0.8, 0.05, True)
    assert (small.score, small.changed) == (0.8, False)
    assert (large.score, large.changed) == (0.85, True)
    assert (signed.score, signed.step) == (0.3, 0.1)  # a range of 2: a step of 2/20


def _probes(challenge: Challenge, endpoint: Endpoint, start: datetime, wrong: int) -> None:
    """A probe of ROWS rows every 10 minutes for HOURS hours, all answered right
    but one row in each of the first `wrong` probes."""
    labels = hidden_labels(challenge.split.labels_sha256)[challenge.target_column]
    other = {"setosa": "virginica", "versicolor": "setosa", "virginica": "versicolor"}
    for index in range(HOURS * 6):
        probe = Probe.objects.create(
            endpoint=endpoint,
            scheduled_at=start + timedelta(minutes=10 * index),
            rows=list(range(ROWS)),
        )
        truth = list(labels.iloc[probe.rows])
        answers = [
            other[label] if n == 0 and index < wrong else label for n, label in enumerate(truth)
        ]
        probe_record_result(
            result={"probe_id": probe.id, "outcome": "ok", "http_status": 200, **_answer(answers)}
        )


def _answer(predictions: list[Any]) -> dict[str, Any]:
    return {"predictions": predictions, "total_ms": 20.0}


def test_a_small_move_leaves_the_published_score_and_a_whole_step_replaces_it(
    settings: Any,
) -> None:
    settings.PPIPE_PROBE_SCORE_PUBLISH_SECONDS = HOURS * 3600
    settings.PPIPE_PROBE_SCORE_MIN_ROWS = 100
    settings.PPIPE_PROBE_WINDOW_HOURS = HOURS
    challenge = published_challenge(opens_at=timezone.now() - timedelta(days=2))
    (student,) = participants(challenge, 1)
    endpoint, _ = endpoint_register(
        participant=student, url="http://m.example.org", protocol="json"
    )
    period = timedelta(hours=HOURS)
    slot = publication_slot(timezone.now(), HOURS * 3600) - 2 * period
    read = token_client(student.user)

    def publish_and_read(at: datetime, wrong: int) -> dict[str, Any]:
        # Each window holds only its own probes: the window is one period.
        _probes(challenge, endpoint, at - period, wrong)
        scores_publish(now=at)
        return dict(read.get(f"/api/endpoints/{endpoint.id}/").json()["metrics"])

    # 36 probes of 10 rows: 360 rows, sqrt 19, a step of 1/10 of the range.
    perfect = publish_and_read(slot, wrong=0)
    assert (perfect["score"], perfect["score_step"], perfect["score_rows"]) == (1.0, 0.1, 360)
    # 22 rows of 360 wrong: 0.939 measured, which rounds to 0.9 but is less than
    # a step from the standing 1.0: the ladder keeps 1.0.
    small_move = publish_and_read(slot + period, wrong=22)
    assert small_move["score"] == 1.0
    assert small_move["score_published_at"] == perfect["score_published_at"]
    # 36 rows wrong: 0.9 measured, a whole step down.
    whole_step = publish_and_read(slot + 2 * period, wrong=36)
    assert whole_step["score"] == 0.9
    assert whole_step["score_published_at"] != perfect["score_published_at"]
    published = list(ScorePublication.objects.filter(endpoint=endpoint).order_by("slot"))
    assert [(p.score, p.changed) for p in published] == [(1.0, True), (1.0, False), (0.9, True)]
