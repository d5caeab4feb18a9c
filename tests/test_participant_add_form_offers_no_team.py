"""The admin's "add participant" form enrols a student and nothing more: no team
menu, which the enrolment would ignore and which would list other teachers' team
names (a student joins a team by its code or the teams action)."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import ChallengeFactory, StudentFactory, TeacherFactory
from tests.teams import student, team

pytestmark = pytest.mark.django_db


def test_the_add_form_has_no_team_menu_and_no_other_teachers_teams(
    teacher: object, teacher_client: Client
) -> None:
    ChallengeFactory(owner=teacher)
    theirs = ChallengeFactory(owner=TeacherFactory(), team_size=2)
    team("Secret Squad", student(theirs, "eve"))
    StudentFactory(username="late")

    page = teacher_client.get("/admin/challenges/participant/add/").content.decode()

    assert 'name="user"' in page
    assert 'name="challenge"' in page
    assert 'name="team"' not in page
    assert "Secret Squad" not in page
