"""Teams are final once the challenge closes: creating, joining, leaving and the
teacher's moves are all refused, saying so."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from challenges.models import Challenge
from teams.services import TeamRefused, team_create, team_join, team_leave, team_member_remove
from tests.factories import ChallengeFactory
from tests.teams import student, team

pytestmark = pytest.mark.django_db


def test_no_team_change_after_the_close() -> None:
    challenge = ChallengeFactory(team_size=3)
    ada, grace, linus = (student(challenge, name) for name in ("ada", "grace", "linus"))
    owls = team("owls", ada)
    Challenge.objects.filter(pk=challenge.pk).update(
        opens_at=timezone.now() - timedelta(days=10), closes_at=timezone.now()
    )

    for change in (
        lambda: team_create(participant=grace, name="larks"),
        lambda: team_join(participant=grace, code=owls.join_code),
        lambda: team_leave(participant=ada),
        lambda: team_member_remove(participant=ada, by="teacher"),
    ):
        with pytest.raises(TeamRefused, match="its teams are final"):
            change()
    assert list(owls.members.all()) == [ada]
    assert linus.team is None
