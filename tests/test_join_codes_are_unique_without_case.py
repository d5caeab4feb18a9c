"""Join codes name one challenge whatever their case: the database refuses a second
challenge with the same code in another case, the API and the admin say so on the
field (no 500), and every way of joining (the API, a challenge's page, the code
alone on /join/, a team's code) takes the code in any case, through the join-code
throttle."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.test import Client
from django.utils import timezone
from playwright.sync_api import Page, expect

from challenges.models import Challenge, Participant
from teams.models import Team
from teams.services import team_join
from tests.factories import ChallengeFactory, StudentFactory, TeacherFactory
from tests.submissions import published_challenge
from tests.teams import student, team
from tests.test_api_challenges import challenge_fields, token_client

TAKEN = "Another challenge already has this join code"


@pytest.mark.django_db
def test_the_database_refuses_the_same_code_in_another_case() -> None:
    ChallengeFactory(join_code="owls-2026")
    ChallengeFactory(join_code="")
    ChallengeFactory(join_code="")  # roster-only challenges share the empty code

    with pytest.raises(IntegrityError), transaction.atomic():
        ChallengeFactory(join_code="OWLS-2026")


@pytest.mark.django_db
def test_the_api_names_the_field_instead_of_failing() -> None:
    ChallengeFactory(join_code="owls-2026")
    client = token_client(TeacherFactory())

    response = client.post(
        "/api/challenges/", challenge_fields(join_code="Owls-2026"), format="multipart"
    )

    assert response.status_code == 400, response.content
    assert TAKEN in response.json()["errors"]["join_code"][0]
    assert not Challenge.objects.filter(slug="iris-api").exists()


@pytest.mark.django_db(transaction=True)
def test_the_admin_names_the_field_instead_of_failing(teacher_page: Page, teacher: Any) -> None:
    ChallengeFactory(join_code="owls-2026")
    mine = ChallengeFactory(owner=teacher, join_code="")

    teacher_page.goto(f"/admin/challenges/challenge/{mine.pk}/change/")
    teacher_page.get_by_label("Join code").fill("OWLS-2026")
    teacher_page.get_by_role("button", name="Save", exact=True).click()

    expect(teacher_page.locator(".field-join_code .errorlist")).to_contain_text(TAKEN)
    mine.refresh_from_db()
    assert mine.join_code == ""


@pytest.mark.django_db
def test_every_way_of_joining_takes_the_code_in_any_case() -> None:
    by_api = published_challenge(join_code="owls-2026")
    by_page = published_challenge(join_code="Hawks-2026")
    by_code = published_challenge(join_code="kites-2026")
    student = StudentFactory()
    page = Client()
    page.force_login(student)

    api = token_client(student).post(
        f"/api/challenges/{by_api.slug}/join/", {"code": " OWLS-2026 "}, format="json"
    )
    joined_on_page = page.post(f"/challenges/{by_page.slug}/", {"code": "hawks-2026"})
    joined_by_code = page.post("/join/", {"code": "KITES-2026"})

    assert api.status_code == 201, api.json()
    assert joined_on_page["Location"] == f"/challenges/{by_page.slug}/"
    assert joined_by_code["Location"] == f"/challenges/{by_code.slug}/"
    assert set(Participant.objects.filter(user=student).values_list("challenge", flat=True)) == {
        by_api.pk,
        by_page.pk,
        by_code.pk,
    }


@pytest.mark.django_db
def test_joining_by_code_alone_says_what_to_fix_and_is_throttled(settings: Any) -> None:
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "join_code": "3/hour"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    challenge = published_challenge(join_code="owls-2026")
    closed = ChallengeFactory(
        join_code="late-2026",
        opens_at=timezone.now() - timedelta(days=20),
        closes_at=timezone.now() - timedelta(days=1),
    )
    Challenge.objects.filter(pk=closed.pk).update(published_at=timezone.now())
    student = StudentFactory()
    page = Client()
    page.force_login(student)

    wrong = page.post("/join/", {"code": "owls-2025"}).content.decode()
    too_late = page.post("/join/", {"code": "late-2026"}).content.decode()
    token_client(student).post(f"/api/challenges/{challenge.slug}/join/", {"code": "x"})
    right = page.post("/join/", {"code": "owls-2026"}).content.decode()

    assert "No open challenge has this code; check it with your teacher" in wrong
    assert "No open challenge has this code" in too_late
    assert "Too many join-code tries" in right
    assert not Participant.objects.filter(user=student).exists()


@pytest.mark.django_db
def test_a_team_code_typed_in_capitals_joins_the_team() -> None:
    challenge = published_challenge(join_code="owls-2026", team_size=3)
    ada, grace = student(challenge, "ada"), student(challenge, "grace")
    made = team("Owls", ada)
    Team.objects.filter(pk=made.pk).update(join_code="c0ffee42ab")  # letters, surely

    joined = team_join(participant=grace, code="C0FFEE42AB")

    assert joined.pk == made.pk
    assert set(made.members.values_list("pk", flat=True)) == {ada.pk, grace.pk}
