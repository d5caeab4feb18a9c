"""Two teachers saving the same join code (or slug) at the same moment: both forms'
checks pass before either commits, and the database refuses the later save. The
later teacher gets the field's own error, as without the race, not a 500, and
nothing of their challenge is saved."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection
from django.test import Client

from challenges.admin import ChallengeAdmin
from challenges.forms import ChallengeForms
from challenges.models import Challenge
from tests.admin_forms import form_errors, post_add_challenge
from tests.factories import ChallengeFactory, TeacherFactory
from tests.test_api_challenges import challenge_fields, token_client

pytestmark = pytest.mark.django_db(transaction=True)

TAKEN = "Another challenge already has this join code"


def rival_saved_before_this_save(
    monkeypatch: pytest.MonkeyPatch, owner: type, method: str, **rival: Any
) -> list[str]:
    """Another teacher's challenge, committed on its own connection after this
    request's checks passed and before its save: the race's window, held open."""
    original = getattr(owner, method)
    saves: list[str] = []

    def the_rival() -> None:
        ChallengeFactory(**rival)
        connection.close()  # the thread's own connection

    def save_after_the_rival(*args: Any, **kwargs: Any) -> Any:
        if not saves:
            thread = threading.Thread(target=the_rival)
            thread.start()
            thread.join()
        saves.append(method)
        return original(*args, **kwargs)

    monkeypatch.setattr(owner, method, save_after_the_rival)
    return saves


def test_the_api_names_the_join_code_another_teacher_took_meanwhile(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    saves = rival_saved_before_this_save(monkeypatch, ChallengeForms, "save", join_code="owls-2026")

    response = token_client(TeacherFactory()).post(
        "/api/challenges/", challenge_fields(join_code="Owls-2026"), format="multipart"
    )

    assert saves == ["save"]  # the save was reached, and lost the race
    assert response.status_code == 400, response.content
    assert TAKEN in response.json()["errors"]["join_code"][0]
    assert Challenge.objects.filter(join_code="owls-2026").count() == 1
    assert not Challenge.objects.filter(slug="iris-api").exists()


def test_the_admin_names_the_slug_another_teacher_took_meanwhile(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    saves = rival_saved_before_this_save(monkeypatch, ChallengeAdmin, "save_model", slug="iris")
    client = Client()
    client.force_login(TeacherFactory())

    response = post_add_challenge(client)

    assert saves == ["save_model"]
    assert response.status_code == 200
    assert "slug" in form_errors(response), form_errors(response)
    assert Challenge.objects.filter(slug="iris").count() == 1
