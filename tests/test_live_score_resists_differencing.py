"""Issue 18's attack, played for a simulated day through the real services and
the real API: a student's server answers the row under test with a guess and
every other row with an impossible label (or, adapted, with a fixed real
label), and the student reads `GET /api/endpoints/ID/` after every probe,
differencing `metrics.score` x `metrics.probes` to get each probe's score.

What the student sees cannot be differenced: impossible labels make probes
invalid and never scored, and the score shown changes only at publication
slots, so a day shows at most one value per slot, within the bound of
probing/publication.py."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest
from django.utils import timezone

from challenges.models import Challenge
from probing.models import Endpoint, Probe, ScorePublication
from probing.publication import labels_per_day_bound, publication_slot
from probing.services import endpoint_register, probe_record_result, probes_schedule, scores_publish
from tests.submissions import participants, published_challenge
from tests.test_api_challenges import token_client

pytestmark = pytest.mark.django_db

PERIOD = 6 * 3600
INTERVAL = 600
CLASSES = ("setosa", "versicolor", "virginica")
Attacker = Callable[[int, int], list[Any]]  # (probe number, rows) -> predictions


@pytest.fixture(autouse=True)
def _a_simulated_days_reads_are_not_rate_limited(settings: Any) -> None:
    # A day of reads every few minutes, simulated in seconds: far past the poll rate
    # a student's script gets in a real minute (foundation/throttles.py).
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "polls": "100000/minute"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}


def impossible_others(number: int, rows: int) -> list[Any]:
    return [CLASSES[number % 3]] + ["no-such-label"] * (rows - 1)


def fixed_others(number: int, rows: int) -> list[Any]:
    return [CLASSES[number % 3]] + ["setosa"] * (rows - 1)


@pytest.fixture
def challenge(settings: Any) -> Challenge:
    settings.PPIPE_PROBE_SCORE_PUBLISH_SECONDS = PERIOD
    settings.PPIPE_PROBE_SCORE_MIN_ROWS = 200
    settings.PPIPE_PROBE_SCORE_STEPS = 50
    settings.PPIPE_PROBE_WINDOW_HOURS = 24
    return published_challenge(
        opens_at=timezone.now() - timedelta(days=3),
        probe_interval_seconds=INTERVAL,
        probe_rows=8,
    )


def _attack_for_a_day(
    challenge: Challenge, attacker: Attacker, capture: Any
) -> list[tuple[datetime, dict[str, Any]]]:
    """Beat's ticks, the probe worker's results and the student's reads, in order;
    the simulated day ends at the latest publication slot, so every slot is past."""
    (student,) = participants(challenge, 1)
    endpoint, _ = endpoint_register(
        participant=student, url="http://m.example.org", protocol="json"
    )
    end = publication_slot(timezone.now(), PERIOD)
    at = end - timedelta(days=1)
    Endpoint.objects.filter(id=endpoint.id).update(next_probe_at=at)
    client = token_client(student.user)
    jobs: list[dict[str, Any]] = []
    reads = []
    while at <= end:
        scores_publish(now=at)
        with capture(execute=True):
            probes_schedule(send=jobs.append, now=at)
        rows = len(jobs[-1]["rows"])
        predictions = attacker(len(jobs), rows)
        probe_record_result(
            result={"probe_id": jobs[-1]["probe_id"], "outcome": "ok", "http_status": 200}
            | {"predictions": predictions, "total_ms": 15.0, "connect_ms": 1.0}
        )
        reads.append((at, client.get(f"/api/endpoints/{endpoint.id}/").json()["metrics"]))
        at += timedelta(seconds=INTERVAL)
    return reads


def test_impossible_labels_are_never_scored_so_nothing_is_published(
    challenge: Challenge, django_capture_on_commit_callbacks: Any
) -> None:
    reads = _attack_for_a_day(challenge, impossible_others, django_capture_on_commit_callbacks)

    assert len(reads) == 24 * 3600 // INTERVAL + 1
    assert set(Probe.objects.values_list("outcome", flat=True)) == {"invalid"}
    assert not Probe.objects.filter(score__isnull=False).exists()
    assert {metrics["score"] for _, metrics in reads} == {None}
    assert all(metrics["score_next_publication_at"] for _, metrics in reads)
    assert not ScorePublication.objects.filter(changed=True).exists()


def test_between_publications_the_score_does_not_move_and_a_day_is_within_the_bound(
    challenge: Challenge, django_capture_on_commit_callbacks: Any
) -> None:
    reads = _attack_for_a_day(challenge, fixed_others, django_capture_on_commit_callbacks)

    # The probes' own scores vary (the differencing would have read each one)...
    assert len(set(Probe.objects.values_list("score", flat=True))) > 1
    # ... but between two slots every read shows the same score.
    by_slot: dict[datetime, set[tuple[Any, Any]]] = {}
    for at, metrics in reads:
        shown = (metrics["score"], metrics["score_published_at"])
        by_slot.setdefault(publication_slot(at, PERIOD), set()).add(shown)
    assert all(len(shown) == 1 for shown in by_slot.values()), by_slot
    # So differencing score x probes across one probe gives the standing value,
    # never that probe's score.
    differences = {
        round(now["score"] * now["probes"] - before["score"] * before["probes"], 9)
        for (_, before), (at, now) in pairwise(reads)
        if before["score"] is not None
        and now["probes"] == before["probes"] + 1
        and publication_slot(at, PERIOD) == publication_slot(at - timedelta(seconds=1), PERIOD)
    }
    assert differences <= {round(metrics["score"], 9) for _, metrics in reads if metrics["score"]}
    # A day shows at most one value per slot, and fewer than the stated bound.
    published = {metrics["score"] for _, metrics in reads if metrics["score"] is not None}
    assert 1 <= len(published) <= 86400 // PERIOD
    assert len(published) <= labels_per_day_bound(PERIOD, 50)
    # Each on its grid: a whole number of its steps.
    for _, metrics in reads:
        if metrics["score"] is not None:
            steps = metrics["score"] / metrics["score_step"]
            assert steps == pytest.approx(round(steps))
