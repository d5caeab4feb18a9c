"""Deleting a published challenge is refused with a sentence that says why and what
the teacher can do instead (set its close date), from its delete page and from the
list's bulk action alike; drafts are still deleted as before."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from challenges.models import Challenge
from challenges.services import challenge_publish
from tests.factories import ChallengeFactory

pytestmark = pytest.mark.django_db
LIST = "/admin/challenges/challenge/"
REFUSAL = "is published and cannot be deleted"


def published(teacher: Any) -> Challenge:
    challenge = ChallengeFactory(owner=teacher)
    challenge_publish(challenge=challenge)
    return challenge


def test_the_delete_page_refuses_with_the_reason_and_what_to_do(
    teacher: Any, teacher_client: Client
) -> None:
    challenge = published(teacher)

    for method in (teacher_client.get, teacher_client.post):
        response = method(f"{LIST}{challenge.pk}/delete/", {"post": "yes"}, follow=True)

        html = response.content.decode()
        assert response.redirect_chain[-1][0] == f"{LIST}{challenge.pk}/change/"
        assert f"&#x27;{challenge.slug}&#x27; {REFUSAL}" in html
        assert "set its close date" in html
        assert "permission to delete" not in html
    assert Challenge.objects.filter(pk=challenge.pk).exists()


def test_the_bulk_action_deletes_nothing_when_a_published_one_is_selected(
    teacher: Any, teacher_client: Client
) -> None:
    live, draft = published(teacher), ChallengeFactory(owner=teacher)

    response = teacher_client.post(
        LIST,
        {"action": "delete_selected", "_selected_action": [live.pk, draft.pk], "post": "yes"},
        follow=True,
    )

    html = response.content.decode()
    assert f"&#x27;{live.slug}&#x27; {REFUSAL}" in html
    assert "permission to delete" not in html
    assert Challenge.objects.filter(pk__in=[live.pk, draft.pk]).count() == 2


def test_drafts_are_still_deleted_after_django_s_confirmation(
    teacher: Any, teacher_client: Client
) -> None:
    draft = ChallengeFactory(owner=teacher)
    chosen = {"action": "delete_selected", "_selected_action": [draft.pk]}

    asked = teacher_client.post(LIST, chosen)
    assert "Are you sure" in asked.content.decode()
    assert Challenge.objects.filter(pk=draft.pk).exists()

    teacher_client.post(LIST, {**chosen, "post": "yes"})
    assert not Challenge.objects.filter(pk=draft.pk).exists()
