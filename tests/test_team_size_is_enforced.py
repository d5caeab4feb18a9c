"""A team never has more members than the challenge's team_size: the next join is
refused saying what to do, also when several students join at once (the team's
row is locked while its members are counted)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from challenges.models import Participant
from teams.services import TeamRefused, team_create, team_join
from tests.factories import ChallengeFactory
from tests.servers import patience
from tests.teams import student, team


@pytest.mark.django_db
def test_a_full_team_refuses_the_next_member() -> None:
    challenge = ChallengeFactory(team_size=2)
    ada, grace, linus = (student(challenge, name) for name in ("ada", "grace", "linus"))
    owls = team("owls", ada, grace)

    with pytest.raises(TeamRefused, match=r"is full: 2 members.*create a team of your own"):
        team_join(participant=linus, code=owls.join_code)
    assert Participant.objects.get(pk=linus.pk).team is None


@pytest.mark.django_db
def test_with_a_team_size_of_one_there_are_no_teams() -> None:
    challenge = ChallengeFactory()  # team_size 1 by default
    with pytest.raises(TeamRefused, match="everyone works alone"):
        team_create(participant=student(challenge, "ada"), name="owls")


@pytest.mark.django_db(transaction=True)
def test_concurrent_joins_never_exceed_the_size() -> None:
    challenge = ChallengeFactory(team_size=3)
    owls = team("owls", student(challenge, "founder"))
    joiners = [student(challenge, f"joiner{n}") for n in range(6)]
    start = threading.Barrier(len(joiners))
    refused: list[str] = []

    def join(participant: Participant) -> None:
        try:
            start.wait()
            team_join(participant=participant, code=owls.join_code)
        except TeamRefused as error:
            refused.append(str(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=join, args=(who,)) for who in joiners]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30 * patience())

    assert Participant.objects.filter(team=owls).count() == 3
    assert len(refused) == 4
    assert all("is full" in message for message in refused)
