"""The history chart's points PostgreSQL keeps as submissions change (judging/models.py
`LeaderboardImprovement`) are always each participant's improvements computed
from the submissions: after results, failures, cancellations, re-judging, new
costs, late results and deletions, and the migration's backfill computes them for
submissions recorded before it. A page with the leaderboard cache off shows a
new point at once (its rendered chart is cached under a digest of the points)."""

from __future__ import annotations

import html
import json
import random
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from challenges.models import Challenge, Participant
from judging.improvement_sql import BACKFILL
from judging.leaderboard import points_computed, points_kept
from judging.models import LeaderboardImprovement, Submission, SubmissionState
from tests.factories import SubmissionFactory
from tests.submissions import participants, published_challenge

pytestmark = pytest.mark.django_db
State = SubmissionState


def assert_kept_equals_computed(challenge: Challenge, message: str = "") -> None:
    assert points_kept(challenge) == points_computed(challenge), message


def submission(participant: Participant, state: str, **fields: Any) -> Submission:
    return SubmissionFactory(participant=participant, state=state, **fields)


def test_points_match_after_a_random_history_of_changes() -> None:
    challenge = published_challenge()
    people = participants(challenge, 4)
    other = participants(published_challenge(slug="other"), 1)[0]
    submission(other, State.SCORED, public_score=0.99, cpu_seconds=1.0)
    rng = random.Random(22)
    rows: list[Submission] = []
    for step in range(120):
        action = rng.choice(["submit", "score", "fail", "cancel", "measure", "delete"])
        if action == "submit" or not rows:
            rows.append(submission(rng.choice(people), State.NEW))
        else:
            row = rng.choice(rows)
            chosen = Submission.objects.filter(pk=row.pk)
            if action == "score":
                # Ties on purpose: an equal score counts as an improvement.
                public = rng.choice([0.5, 0.7, 0.7, 0.9])
                chosen.update(state=State.SCORED, public_score=public, cpu_seconds=2.0)
            elif action == "fail":
                chosen.update(state=State.FAILED, public_score=None)
            elif action == "cancel":
                chosen.update(state=State.CANCELLED)
            elif action == "measure":
                chosen.update(cpu_seconds=rng.choice([None, 1.0, 5.0]))
            else:
                chosen.delete()
                rows.remove(row)
        assert_kept_equals_computed(challenge, f"after step {step}: {action}")
    assert points_kept(challenge), "the history made no point: it proved little"
    # Another challenge's points are its own.
    assert [p.participant for p in points_kept(Challenge.objects.get(slug="other"))] == [
        other.user.username
    ]


def test_a_result_that_arrives_late_adds_its_point_without_moving_the_standing() -> None:
    challenge = published_challenge()
    (ada,) = participants(challenge, 1)
    early = submission(ada, State.RUNNING)
    submission(ada, State.SCORED, public_score=0.9, cpu_seconds=1.0)
    assert [p.public_score for p in points_kept(challenge)] == [0.9]

    # The earlier upload is judged after the better later one: at its time it was an
    # improvement, though it represents nobody.
    Submission.objects.filter(pk=early.pk).update(
        state=State.SCORED, public_score=0.6, cpu_seconds=1.0
    )

    assert [p.public_score for p in points_kept(challenge)] == [0.6, 0.9]
    assert_kept_equals_computed(challenge)


def test_the_migrations_backfill_computes_points_already_recorded() -> None:
    challenge = published_challenge()
    ada, grace = participants(challenge, 2)
    for score in (0.6, 0.8, 0.7):
        submission(ada, State.SCORED, public_score=score, cpu_seconds=1.0)
    submission(grace, State.FAILED)
    expected = points_kept(challenge)
    assert len(expected) == 2
    LeaderboardImprovement.objects.all().delete()
    assert points_kept(challenge) == []

    with connection.cursor() as cursor:
        cursor.execute(BACKFILL)

    assert points_kept(challenge) == expected
    assert_kept_equals_computed(challenge)


def history_scores(client: Client, challenge: Challenge) -> list[float]:
    page = client.get(f"/challenges/{challenge.slug}/leaderboard/").content.decode()
    chart = page.split('id="score-history-chart"', 1)[1]
    figure_json = html.unescape(chart.split('data-chart="', 1)[1].split('"', 1)[0])
    data = json.loads(figure_json)["data"]
    return next(trace["y"] for trace in data if trace["name"] == "improvements")


def test_the_page_shows_a_new_point_at_once_with_the_cache_off(settings: Any) -> None:
    settings.PPIPE_LEADERBOARD_CACHE_SECONDS = 0
    challenge = published_challenge()
    (ada,) = participants(challenge, 1)
    submission(ada, State.SCORED, public_score=0.6, cpu_seconds=1.0)
    client = Client()
    client.force_login(challenge.owner)
    assert history_scores(client, challenge) == [0.6]

    submission(ada, State.SCORED, public_score=0.8, cpu_seconds=1.0)

    assert history_scores(client, challenge) == [0.6, 0.8]
