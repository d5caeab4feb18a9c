"""The leaderboard has one row per team, named with its members and represented by
the best submission among all of theirs (their picks first), beside the rows of
students alone; the query count stays what it is without teams. The grades export
still gives every member a row, with the team's result."""

from __future__ import annotations

from typing import Any

import pytest

from challenges.models import Challenge, Participant
from grades.selectors import challenge_grades
from judging.leaderboard import leaderboard
from judging.models import Submission, SubmissionState
from tests.factories import SubmissionFactory
from tests.submissions import published_challenge
from tests.teams import student, team

pytestmark = pytest.mark.django_db


def scored(participant: Participant, score: float, **fields: Any) -> Submission:
    return SubmissionFactory(
        participant=participant,
        state=SubmissionState.SCORED,
        public_score=score,
        private_score=score,
        cpu_seconds=1.0,
        **fields,
    )


def a_class(challenge: Challenge) -> dict[str, Submission]:
    ada, grace, hopper, linus = (
        student(challenge, name) for name in ("ada", "grace", "hopper", "linus")
    )
    team("owls", ada, grace, hopper)  # hopper has submitted nothing
    return {
        "ada": scored(ada, 0.70),
        "grace": scored(grace, 0.90),
        "linus": scored(linus, 0.80),
    }


def test_one_row_per_team_with_the_best_of_its_members() -> None:
    challenge = published_challenge(team_size=3)
    made = a_class(challenge)

    rows = leaderboard(challenge).rows
    assert [(row.rank, row.participant, row.submission_id) for row in rows] == [
        (1, "owls (ada, grace, hopper)", made["grace"].pk),
        (2, "linus", made["linus"].pk),
    ]
    assert rows[0].team == "owls"
    assert rows[0].members == ("ada", "grace", "hopper")
    assert rows[0].submissions == 2


def test_a_members_pick_represents_the_team() -> None:
    challenge = published_challenge(team_size=3)
    ada = a_class(challenge)["ada"]
    Submission.objects.filter(pk=ada.pk).update(selected=True)

    (owls,) = [row for row in leaderboard(challenge).rows if row.team]
    assert (owls.submission_id, owls.selected, owls.picks) == (ada.pk, True, 1)


def test_teams_cost_no_extra_query(django_assert_num_queries: Any) -> None:
    challenge = published_challenge(team_size=3)
    a_class(challenge)
    # As many as without teams (tests/test_leaderboard.py counts them).
    with django_assert_num_queries(5):
        leaderboard(challenge)


def test_the_grades_give_every_member_the_teams_result() -> None:
    challenge = published_challenge(team_size=3)
    made = a_class(challenge)

    rows = {row.participant: row for row in challenge_grades(challenge).rows}
    assert set(rows) == {"ada", "grace", "hopper", "linus"}
    for name in ("ada", "grace", "hopper"):
        assert (rows[name].team, rows[name].rank) == ("owls", 1)
        assert rows[name].submission_id == made["grace"].pk
        assert rows[name].mark == rows["grace"].mark
    assert (rows["linus"].team, rows["linus"].rank) == ("", 2)
