"""Teams for tests: students of a challenge, and a team of them made through the
real services (the first creates it, the others join with its code)."""

from __future__ import annotations

from challenges.models import Challenge, Participant
from teams.models import Team
from teams.services import team_create, team_join
from tests.factories import ParticipantFactory, StudentFactory


def student(challenge: Challenge, name: str) -> Participant:
    return ParticipantFactory(challenge=challenge, user=StudentFactory(username=name))


def team(name: str, *members: Participant) -> Team:
    created = team_create(participant=members[0], name=name)
    for member in members[1:]:
        team_join(participant=member, code=created.join_code)
    return created
