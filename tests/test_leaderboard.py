"""The leaderboard selector and its charts: one row per participant (their pick or
their best), competition ranks, sorting, a constant number of queries, and the
Pareto front of score against CPU time."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.utils import timezone

from challenges.models import Challenge, Participant
from judging.leaderboard import leaderboard, leaderboard_cached, leaderboard_points
from judging.leaderboard_charts import (
    Entry,
    pareto_front,
    score_cost_chart,
    score_cost_you,
    score_history_chart,
    score_history_you,
    viewer_members,
    with_reader,
)
from judging.models import SubmissionState
from probing.models import Endpoint, Probe
from tests.factories import ParticipantFactory, StudentFactory, SubmissionFactory
from tests.submissions import published_challenge

pytestmark = pytest.mark.django_db
State = SubmissionState


def scored(participant: Participant, score: float, cpu: float = 1.0, **fields: Any) -> Any:
    values = {
        "state": State.SCORED,
        "public_score": score,
        "private_score": score - 0.05,
        "cv_mean": score,
        "cv_std": 0.01,
        "cpu_seconds": cpu,
        "peak_memory_mb": 100.0,
        "fit_seconds": cpu / 2,
    }
    return SubmissionFactory(participant=participant, **{**values, **fields})


def person(challenge: Challenge, name: str) -> Participant:
    return ParticipantFactory(challenge=challenge, user=StudentFactory(username=name))


def test_one_row_per_participant_their_pick_or_their_best() -> None:
    challenge = published_challenge()
    ada, grace, linus, ken, idle = (
        person(challenge, name) for name in ("ada", "grace", "linus", "ken", "idle")
    )
    scored(ada, 0.70)
    scored(ada, 0.90, cpu=5.0)
    scored(grace, 0.95)
    scored(grace, 0.80, selected=True)  # her pick wins over her best
    scored(linus, 0.90, cpu=2.0)
    SubmissionFactory(participant=ken, state=State.FAILED, reason="boom")
    SubmissionFactory(participant=idle, state=State.CANCELLED)

    board = leaderboard(challenge)

    by_name = {row.participant: row for row in board.rows}
    assert set(by_name) == {"ada", "grace", "linus", "ken"}  # idle only cancelled
    assert by_name["ada"].public_score == 0.90
    assert by_name["ada"].submissions == 2
    assert by_name["grace"].public_score == 0.80
    assert by_name["grace"].selected
    # Equal scores share a rank; the next rank skips.
    assert (by_name["ada"].rank, by_name["linus"].rank, by_name["grace"].rank) == (1, 1, 3)
    assert by_name["ken"].rank is None
    assert [row.participant for row in board.rows][-1] == "ken"
    assert all(row.private_score is None for row in board.rows)


def test_sorting_by_a_column_keeps_missing_values_last() -> None:
    challenge = published_challenge()
    ada, grace, ken = (person(challenge, name) for name in ("ada", "grace", "ken"))
    scored(ada, 0.9, cpu=5.0)
    scored(grace, 0.8, cpu=1.0)
    SubmissionFactory(participant=ken, state=State.FAILED)

    cheapest = leaderboard(challenge, order="cpu_seconds").rows
    dearest = leaderboard(challenge, order="-cpu_seconds").rows
    nonsense = leaderboard(challenge, order="password").rows

    assert [row.participant for row in cheapest] == ["grace", "ada", "ken"]
    assert [row.participant for row in dearest] == ["ada", "grace", "ken"]
    assert [row.participant for row in nonsense] == ["ada", "grace", "ken"]


def test_the_final_ranking_uses_the_private_scores() -> None:
    challenge = published_challenge()
    ada, grace = person(challenge, "ada"), person(challenge, "grace")
    scored(ada, 0.9, private_score=0.60)
    scored(grace, 0.8, private_score=0.75)
    board = leaderboard(challenge, now=challenge.closes_at)
    assert board.final
    assert [(row.participant, row.rank) for row in board.rows] == [("grace", 1), ("ada", 2)]
    assert board.rows[0].private_score == 0.75


def fill(challenge: Challenge, participants: int, each: int) -> None:
    for index in range(participants):
        someone = person(challenge, f"p{challenge.pk}-{index}")
        for attempt in range(each):
            scored(someone, 0.5 + attempt / 100, cpu=1.0 + attempt)
        SubmissionFactory(participant=someone, state=State.FAILED)


def test_the_query_count_does_not_grow_with_submissions(django_assert_num_queries: Any) -> None:
    small, large = published_challenge(), published_challenge()
    fill(small, participants=2, each=1)
    fill(large, participants=12, each=6)
    for challenge in (small, large):
        # The endpoints, a digest of the kept standings and participants, their
        # rows, the digest again (nothing moved while they were read).
        with django_assert_num_queries(5):
            rows = leaderboard(challenge).rows
        # Nothing moved since: the endpoints and the digest, the rows reused.
        with django_assert_num_queries(2):
            assert leaderboard(challenge).rows == rows
        with django_assert_num_queries(1):
            leaderboard_points(challenge)
        assert len(rows) in (2, 12)


def test_the_query_count_does_not_grow_with_endpoints_and_probes(
    django_assert_num_queries: Any,
) -> None:
    small, large = published_challenge(), published_challenge()
    for challenge, people, probes in ((small, 1, 1), (large, 8, 30)):
        for participant in (person(challenge, f"{challenge.slug}-{n}") for n in range(people)):
            endpoint = Endpoint.objects.create(
                challenge=challenge, participant=participant, url="http://x.org", protocol="json"
            )
            Probe.objects.bulk_create(
                Probe(
                    endpoint=endpoint,
                    scheduled_at=timezone.now(),
                    state="done",
                    outcome="ok",
                    http_status=200,
                    total_ms=10.0 + n,
                )
                for n in range(probes)
            )
    for challenge, people in ((small, 1), (large, 8)):
        # Four for the endpoints, four for the rows (see the test above).
        with django_assert_num_queries(8):
            board = leaderboard(challenge)
        assert board.has_endpoints
        assert len(board.rows) == people  # with an endpoint and no submission, still a row
        assert all(row.endpoint_uptime == 1.0 for row in board.rows)


def test_the_pareto_front_is_what_nothing_beats_on_both_axes() -> None:
    entries = [
        Entry("cheap", 1.0, 0.70),
        Entry("dominated", 3.0, 0.65),
        Entry("middle", 2.0, 0.80),
        Entry("best", 9.0, 0.95),
        Entry("dear-and-worse", 10.0, 0.90),
    ]
    assert [entry.label for entry in pareto_front(entries)] == ["cheap", "middle", "best"]


def traces(figure_json: str) -> dict[str, dict[str, Any]]:
    return {trace["name"]: trace for trace in json.loads(figure_json)["data"]}


def test_the_charts_name_the_front_mark_the_reader_and_escape_names() -> None:
    challenge = published_challenge()
    scored(person(challenge, "ada"), 0.9, cpu=1.0)
    scored(person(challenge, "grace"), 0.8, cpu=5.0)  # dominated
    scored(person(challenge, "<b>linus</b>"), 0.1, cpu=9.0)  # dominated
    board = leaderboard(challenge)
    mine = viewer_members(board.rows, "grace")
    assert mine == {"grace"}

    points = leaderboard_points(challenge)
    base = score_cost_chart(board.rows, board.score_field, "accuracy")
    chart = traces(
        with_reader(base, score_cost_you(board.rows, board.score_field, mine)).figure_json
    )
    assert chart["Pareto front"]["text"] == ["ada"]
    assert chart["you"]["text"] == ["grace"]
    assert chart["other participants"]["text"] == ["grace", "&lt;b&gt;linus&lt;/b&gt;"]
    # The reader's star is drawn last, over the point every reader sees.
    assert list(chart)[-1] == "you"

    history_base = score_history_chart(points, "accuracy")
    history = traces(with_reader(history_base, score_history_you(points, mine)).figure_json)
    # A step line through where the best rose (ada's first score was the best),
    # carried on to the last improvement.
    assert history["best so far"]["y"] == [0.9, 0.9]
    assert history["best so far"]["x"] == [
        history["improvements"]["x"][0],
        history["improvements"]["x"][-1],
    ]
    assert history["best so far"]["text"] == ["ada", "ada"]
    assert history["you"]["text"] == ["grace"]
    # What every reader sees is cached once: the reader's marks are only added.
    assert "you" not in traces(base.figure_json)
    assert "you" not in traces(history_base.figure_json)

    # A teacher has no row: nothing is "you".
    teacher = viewer_members(board.rows, challenge.owner.username)
    assert score_cost_you(board.rows, board.score_field, teacher) is None
    assert with_reader(base, None) == base


def test_the_history_shows_each_participants_improvements_only() -> None:
    challenge = published_challenge()
    ada, grace = person(challenge, "ada"), person(challenge, "grace")
    for score in (0.6, 0.8, 0.7, 0.9, 0.85):
        scored(ada, score)
    scored(grace, 0.5)
    points = leaderboard_points(challenge)
    assert [(p.participant, p.public_score) for p in points] == [
        ("ada", 0.6),
        ("ada", 0.8),
        ("ada", 0.9),
        ("grace", 0.5),
    ]


def test_pages_reuse_a_leaderboard_for_a_few_seconds(
    settings: Any, django_assert_num_queries: Any
) -> None:
    challenge = published_challenge()
    ada = person(challenge, "ada")
    scored(ada, 0.6)
    settings.PPIPE_LEADERBOARD_CACHE_SECONDS = 60
    assert leaderboard_cached(challenge).rows[0].public_score == 0.6
    scored(ada, 0.9)
    with django_assert_num_queries(0):
        cached = leaderboard_cached(challenge, order="-public_score")
    assert cached.rows[0].public_score == 0.6
    settings.PPIPE_LEADERBOARD_CACHE_SECONDS = 0
    assert leaderboard_cached(challenge).rows[0].public_score == 0.9


def test_the_best_so_far_line_steps_where_the_best_rose() -> None:
    challenge = published_challenge()
    ada, grace = person(challenge, "ada"), person(challenge, "grace")
    for who, score in ((ada, 0.6), (grace, 0.8), (ada, 0.7), (grace, 0.9)):
        scored(who, score)
    history = traces(score_history_chart(leaderboard_points(challenge), "accuracy").figure_json)
    assert history["improvements"]["y"] == [0.6, 0.8, 0.7, 0.9]
    line = history["best so far"]
    assert line["y"] == [0.6, 0.8, 0.9]
    assert line["text"] == ["ada", "grace", "grace"]
    improvements_x = history["improvements"]["x"]
    assert line["x"] == [improvements_x[0], improvements_x[1], improvements_x[3]]
