"""After the close each participant is ranked by the best private score among
their picks (selected or promoted), never by an unpicked submission's; with no
pick, by the submission with their best public score. Still three queries."""

from __future__ import annotations

from typing import Any

import pytest

from challenges.models import Challenge, Participant
from judging.leaderboard import Leaderboard, leaderboard
from judging.models import Submission, SubmissionState
from tests.factories import ParticipantFactory, StudentFactory, SubmissionFactory
from tests.submissions import published_challenge

pytestmark = pytest.mark.django_db


def person(challenge: Challenge, name: str) -> Participant:
    return ParticipantFactory(challenge=challenge, user=StudentFactory(username=name))


def scored(participant: Participant, public: float, private: float, **fields: Any) -> Submission:
    return SubmissionFactory(
        participant=participant,
        state=SubmissionState.SCORED,
        public_score=public,
        private_score=private,
        **fields,
    )


def final(challenge: Challenge) -> Leaderboard:
    return leaderboard(challenge, now=challenge.closes_at)


def test_the_best_private_score_among_picks_counts_not_an_unpicked_one() -> None:
    challenge = published_challenge(final_selections=2)
    ada = person(challenge, "ada")
    scored(ada, 0.80, 0.70, selected=True)
    best_pick = scored(ada, 0.75, 0.78, selected=True)
    scored(ada, 0.60, 0.95)  # better in private, but not picked

    (row,) = final(challenge).rows

    assert (row.submission_id, row.private_score, row.picks) == (best_pick.pk, 0.78, 2)
    assert row.selected
    assert not row.promoted


def test_a_promoted_run_counts_beside_the_selected_ones() -> None:
    challenge = published_challenge()
    ada = person(challenge, "ada")
    scored(ada, 0.90, 0.70, selected=True)
    promoted = scored(ada, 0.70, 0.85, promoted=True)
    scored(ada, 0.95, 0.99)

    (row,) = final(challenge).rows

    assert (row.submission_id, row.private_score, row.picks) == (promoted.pk, 0.85, 2)
    assert row.promoted


def test_with_no_pick_the_best_public_score_is_ranked_by_its_private_score() -> None:
    challenge = published_challenge()
    ada, grace = person(challenge, "ada"), person(challenge, "grace")
    best_public = scored(ada, 0.90, 0.60)
    scored(ada, 0.70, 0.95)  # the best private score, which nobody picked
    scored(grace, 0.80, 0.75)

    board = final(challenge)

    by_name = {row.participant: row for row in board.rows}
    assert (by_name["ada"].submission_id, by_name["ada"].picks) == (best_public.pk, 0)
    assert [(row.participant, row.rank) for row in board.rows] == [("grace", 1), ("ada", 2)]


def test_while_open_the_best_public_score_among_picks_is_shown() -> None:
    challenge = published_challenge(final_selections=2)
    ada = person(challenge, "ada")
    scored(ada, 0.70, 0.70, selected=True)
    scored(ada, 0.80, 0.60, promoted=True)
    scored(ada, 0.95, 0.95)

    (row,) = leaderboard(challenge).rows

    assert (row.public_score, row.private_score, row.picks) == (0.80, None, 2)


def test_picks_keep_the_query_count_constant(django_assert_num_queries: Any) -> None:
    for people in (1, 10):
        challenge = published_challenge()
        for n in range(people):
            someone = person(challenge, f"{challenge.slug}-{n}")
            scored(someone, 0.5, 0.5, selected=True)
            scored(someone, 0.6, 0.4, promoted=True)
            scored(someone, 0.7, 0.9)
        # As many as without picks (tests/test_leaderboard.py counts them).
        with django_assert_num_queries(5):
            rows = final(challenge).rows
        assert [row.picks for row in rows] == [2] * people
