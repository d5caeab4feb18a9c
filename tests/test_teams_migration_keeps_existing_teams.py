"""Upgrading a database made before the teams app existed: its teams and their
membership log, made by the old migrations in challenges/, are found in the teams
app afterwards, with their members, and the permissions on them follow."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from teams.models import Team, TeamEvent
from tests.submissions import participants, published_challenge

BEFORE_THE_MOVE = [("challenges", "0010_teams"), ("teams", None)]


def migrate(targets: list[tuple[str, str | None]]) -> None:
    MigrationExecutor(connection).migrate(targets)


@pytest.mark.django_db(transaction=True)
def test_teams_made_before_the_move_are_found_in_the_teams_app(teacher: Any) -> None:
    ada, grace = participants(published_challenge(owner=teacher, team_size=2), 2)
    team_type = ContentType.objects.get_for_model(Team)
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()

    migrate(BEFORE_THE_MOVE)
    try:
        old = MigrationExecutor(connection).loader.project_state(BEFORE_THE_MOVE[0]).apps
        OldTeam = old.get_model("challenges", "Team")
        OldTeamEvent = old.get_model("challenges", "TeamEvent")
        owls = OldTeam.objects.create(challenge_id=ada.challenge_id, name="owls", join_code="c0de")
        old.get_model("challenges", "Participant").objects.filter(pk__in=[ada.pk, grace.pk]).update(
            team=owls
        )
        OldTeamEvent.objects.create(team=owls, participant_id=ada.pk, action="created", by="ada")
    finally:
        migrate(latest)
    ContentType.objects.clear_cache()

    team = Team.objects.get(pk=owls.pk)
    assert (team.name, team.join_code, team.challenge_id) == ("owls", "c0de", ada.challenge_id)
    assert set(team.members.values_list("pk", flat=True)) == {ada.pk, grace.pk}
    (event,) = TeamEvent.objects.filter(team=team)
    assert (event.participant_id, event.action, event.by) == (ada.pk, "created", "ada")
    assert ContentType.objects.get_for_model(Team).pk == team_type.pk
