"""Every membership change is logged with who made it: a student creating, joining
and leaving; the teacher moving a participant into a team and taking one out in
the admin (under the teacher's name)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from challenges.models import Participant
from teams.models import TeamEvent
from teams.services import team_leave
from tests.factories import ChallengeFactory
from tests.teams import student, team

pytestmark = pytest.mark.django_db


def log() -> list[tuple[str, str, str, str, str]]:
    return [
        (event.team.name, event.participant.user.username, event.action, event.by, event.note)
        for event in TeamEvent.objects.order_by("at", "id")
    ]


def test_students_changes_are_logged() -> None:
    challenge = ChallengeFactory(team_size=2)
    ada, grace = student(challenge, "ada"), student(challenge, "grace")
    team("owls", ada, grace)
    team_leave(participant=grace)

    assert log() == [
        ("owls", "ada", "created", "ada", ""),
        ("owls", "grace", "joined", "grace", ""),
        ("owls", "grace", "left", "grace", ""),
    ]


def _change_form(team_name: str, **fields: Any) -> dict[str, Any]:
    empty = {"TOTAL_FORMS": "0", "INITIAL_FORMS": "0", "MIN_NUM_FORMS": "0", "MAX_NUM_FORMS": "0"}
    data = {"name": team_name, **fields}
    for prefix in ("members", "events"):
        data.update({f"{prefix}-{key}": value for key, value in empty.items()})
    return data


def test_the_teachers_moves_in_the_admin_are_logged(teacher: Any, teacher_client: Client) -> None:
    challenge = ChallengeFactory(owner=teacher, team_size=2)
    ada, grace, linus = (student(challenge, name) for name in ("ada", "grace", "linus"))
    owls, larks = team("owls", ada, grace), team("larks", linus)
    TeamEvent.objects.all().delete()

    url = f"/admin/teams/team/{larks.pk}/change/"
    response = teacher_client.post(url, _change_form("larks", move_in=grace.pk))
    assert response.status_code == 302, response.content.decode()[:3000]
    response = teacher_client.post(
        "/admin/challenges/participant/",
        {"action": "remove_from_team", "_selected_action": [ada.pk]},
    )
    assert response.status_code == 302

    assert Participant.objects.get(pk=grace.pk).team == larks
    assert Participant.objects.get(pk=ada.pk).team is None
    name = teacher.username
    assert log() == [
        ("owls", "grace", "moved", name, "to 'larks'"),
        ("larks", "grace", "moved", name, "from 'owls'"),
        ("owls", "ada", "removed", name, ""),
    ]
    assert owls.pk  # kept, empty
