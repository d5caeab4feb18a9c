"""Reads of teams: a participant's team with its members, for pages and the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from challenges.models import Participant
from teams.models import Team


@dataclass(frozen=True)
class TeamView:
    name: str
    join_code: str
    created_at: datetime
    members: list[str]
    team_size: int


def team_of(participant: Participant) -> TeamView | None:
    """The participant's team, its members by name (None when alone). Two queries."""
    team = Team.objects.select_related("challenge").filter(members=participant).first()
    if team is None:
        return None
    members = list(
        Participant.objects.filter(team=team)
        .order_by("user__username")
        .values_list("user__username", flat=True)
    )
    return TeamView(
        name=team.name,
        join_code=team.join_code,
        created_at=team.created_at,
        members=members,
        team_size=team.challenge.team_size,
    )
