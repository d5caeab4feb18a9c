"""Only a challenge's teacher exports its grades: another teacher gets a 404 from
the API and the admin (the challenge's existence is not theirs to know), a
student a 403; errors keep the house shape, whatever format was asked for."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from challenges.models import Challenge
from tests.factories import StudentFactory, TeacherFactory
from tests.grading import a_class
from tests.submissions import published_challenge

pytestmark = pytest.mark.django_db


def _other_teachers_challenge() -> str:
    challenge = published_challenge(owner=TeacherFactory())
    a_class(challenge)
    return challenge.slug


@pytest.mark.parametrize("file_format", ["json", "csv"])
def test_another_teachers_challenge_is_a_404(teacher_client: Client, file_format: str) -> None:
    slug = _other_teachers_challenge()

    response = teacher_client.get(f"/api/challenges/{slug}/grades/?format={file_format}")

    assert response.status_code == 404
    assert response.json() == {"detail": f"No challenge '{slug}' of yours.", "errors": {}}


def test_another_teachers_challenge_is_a_404_in_the_admin(teacher_client: Client) -> None:
    slug = _other_teachers_challenge()
    pk = Challenge.objects.get(slug=slug).pk

    page = teacher_client.get(reverse("admin:grades_challengegrades_change", args=[pk]))
    download = teacher_client.get(
        reverse("admin:grades_challengegrades_download", args=[pk, "csv"])
    )

    assert (page.status_code, download.status_code) == (404, 404)


def test_a_student_is_refused(teacher: object) -> None:
    challenge = published_challenge(owner=teacher)
    client = Client()
    client.force_login(StudentFactory())

    response = client.get(f"/api/challenges/{challenge.slug}/grades/")

    assert response.status_code == 403
    assert "Teachers group" in response.json()["detail"]


def test_an_unknown_format_is_a_400_naming_the_field(
    teacher: object, teacher_client: Client
) -> None:
    challenge = published_challenge(owner=teacher)

    response = teacher_client.get(f"/api/challenges/{challenge.slug}/grades/?format=xlsx")

    assert response.status_code == 400
    assert response.json()["errors"] == {"format": ["Use csv or json, not 'xlsx'."]}
