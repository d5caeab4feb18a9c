"""A teacher sees and changes only their own challenges; a superuser sees all."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.factories import ChallengeFactory, TeacherFactory, UserFactory


@pytest.mark.django_db
def test_the_change_list_shows_only_the_teachers_own(
    teacher_client: Client, teacher: object
) -> None:
    ChallengeFactory(owner=teacher, name="Mine")
    ChallengeFactory(owner=TeacherFactory(), name="Someone else's")

    page = teacher_client.get("/admin/challenges/challenge/").content.decode()

    assert "Mine" in page
    assert "Someone else" not in page


@pytest.mark.django_db
def test_another_teachers_challenge_cannot_be_opened_changed_or_published(
    teacher_client: Client,
) -> None:
    theirs = ChallengeFactory(owner=TeacherFactory())
    base = f"/admin/challenges/challenge/{theirs.pk}"

    assert teacher_client.get(f"{base}/change/").status_code == 302  # the admin's "does not exist"
    teacher_client.post(f"{base}/change/", {"name": "hijacked"})
    assert teacher_client.post(f"{base}/publish/").status_code == 404

    theirs.refresh_from_db()
    assert theirs.name != "hijacked"
    assert not theirs.is_published


@pytest.mark.django_db
def test_a_superuser_sees_every_challenge() -> None:
    ChallengeFactory(name="First")
    ChallengeFactory(name="Second")
    client = Client()
    client.force_login(UserFactory(is_staff=True, is_superuser=True))

    page = client.get("/admin/challenges/challenge/").content.decode()

    assert "First" in page
    assert "Second" in page
