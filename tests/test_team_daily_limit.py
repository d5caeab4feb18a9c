"""A team's members share the daily limit: every member's submissions of the last
24 hours count, and the refusal says it is the team's; a student alone keeps their own."""

from __future__ import annotations

import pytest

from judging.models import Submission
from tests.submissions import published_challenge, upload
from tests.teams import student, team
from worker_wing.pipeline.code_check import SubmissionRejected

pytestmark = pytest.mark.django_db


def test_every_members_submissions_count_against_the_team() -> None:
    challenge = published_challenge(submissions_per_day=2, team_size=3)
    ada, grace, linus = (student(challenge, name) for name in ("ada", "grace", "linus"))
    team("owls", ada, grace)
    upload(ada)
    upload(grace)

    with pytest.raises(SubmissionRejected, match="Your team has used its 2 submissions"):
        upload(ada)
    with pytest.raises(SubmissionRejected, match="Your team has used its 2 submissions"):
        upload(grace)
    upload(linus)  # alone: a limit of his own
    upload(linus)
    assert Submission.objects.filter(participant__team__name="owls").count() == 2
