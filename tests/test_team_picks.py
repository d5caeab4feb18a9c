"""A team shares the challenge's final_selections picks: a member's select is refused
once the team has used them; a teacher's promotion still counts beyond them; a
student whose own picks would overflow a team must unselect before joining."""

from __future__ import annotations

import pytest

from challenges.models import Participant
from judging.models import Submission, SubmissionState
from judging.picks import submission_promote, submission_select, submission_unselect
from teams.services import TeamRefused, team_join
from tests.factories import ChallengeFactory, SubmissionFactory
from tests.teams import student, team
from worker_wing.pipeline.code_check import SubmissionRejected

pytestmark = pytest.mark.django_db


def scored(participant: Participant) -> Submission:
    return SubmissionFactory(
        participant=participant, state=SubmissionState.SCORED, public_score=0.8
    )


def test_members_share_the_picks() -> None:
    challenge = ChallengeFactory(team_size=2, final_selections=1)
    ada, grace = student(challenge, "ada"), student(challenge, "grace")
    team("owls", ada, grace)
    mine, hers = scored(ada), scored(grace)
    submission_select(submission=mine)

    with pytest.raises(SubmissionRejected, match="Your team has already selected 1 submission"):
        submission_select(submission=hers)
    assert submission_promote(submission=hers, by="teacher")  # beyond the picks
    submission_unselect(submission=mine)
    submission_select(submission=hers)
    assert list(Submission.objects.filter(selected=True)) == [hers]


def test_joining_with_picks_that_would_overflow_is_refused() -> None:
    challenge = ChallengeFactory(team_size=2, final_selections=1)
    ada, grace = student(challenge, "ada"), student(challenge, "grace")
    owls = team("owls", ada)
    submission_select(submission=scored(ada))
    submission_select(submission=scored(grace))

    with pytest.raises(TeamRefused, match="unselect some first"):
        team_join(participant=grace, code=owls.join_code)
    assert Participant.objects.get(pk=grace.pk).team is None
