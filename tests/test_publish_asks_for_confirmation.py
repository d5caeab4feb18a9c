"""Publishing cannot be undone, so the admin asks first, in headless Chromium: the
Publish button and the list's action both lead to a confirmation page that lists
what freezes and what will happen (the split, the releases); nothing is published
until the teacher confirms, and "No, take me back" leaves the draft as it was."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from django.contrib.auth.models import User
from django.test import Client
from playwright.sync_api import Page, expect

from challenges.models import Challenge
from tests.factories import ChallengeFactory, DestinationFactory

FIRST_RELEASE = datetime(2031, 5, 4, 9, 30, tzinfo=UTC)


def draft(teacher: User) -> Challenge:
    challenge = ChallengeFactory(
        owner=teacher, release_proportions="4", first_release_at=FIRST_RELEASE
    )
    challenge.release_plan.destinations.set([DestinationFactory(owner=teacher)])
    return challenge


def is_published(challenge: Challenge) -> bool:
    return Challenge.objects.get(pk=challenge.pk).is_published


@pytest.mark.django_db(transaction=True)
def test_the_button_lists_what_freezes_and_publishes_only_when_confirmed(
    teacher_page: Page, teacher: User
) -> None:
    page, challenge = teacher_page, draft(teacher)
    page.goto(f"/admin/challenges/challenge/{challenge.pk}/change/")

    page.locator("#publish-challenge").click()

    preview = page.locator(f"#publish-preview-{challenge.slug}")
    expect(preview.locator(".publish-freezes").first).to_contain_text("Metric")
    expect(preview.locator(".publish-freezes").first).to_contain_text("accuracy")
    expect(preview).to_contain_text("CPU time limit (seconds)")  # the judging section's
    expect(preview.locator(".publish-consequences")).to_contain_text("105 training rows")
    expect(preview.locator(".publish-consequences")).to_contain_text(
        "4 release(s) of the 105 training rows are planned to 1 destination(s): "
        "the first at 2031-05-04 09:30 UTC"
    )
    assert not is_published(challenge)

    page.get_by_role("link", name="No, take me back").click()
    expect(page.locator(".object-tools")).to_contain_text("Status: draft")
    assert not is_published(challenge)

    page.locator("#publish-challenge").click()
    page.get_by_role("button", name="Yes, publish").click()
    expect(page.locator(".messagelist .success")).to_contain_text(
        f"Challenge '{challenge.slug}' published"
    )
    assert is_published(challenge)


@pytest.mark.django_db(transaction=True)
def test_the_list_action_asks_before_publishing_the_selected(
    teacher_page: Page, teacher: User
) -> None:
    page, challenge = teacher_page, draft(teacher)
    page.goto("/admin/challenges/challenge/")

    page.locator(f"input[name='_selected_action'][value='{challenge.pk}']").check()
    page.locator("select[name='action']").select_option("publish_selected")
    page.get_by_role("button", name="Go").click()

    expect(page.locator(f"#publish-preview-{challenge.slug}")).to_contain_text("Split seed")
    assert not is_published(challenge)
    page.get_by_role("button", name="Yes, publish").click()
    expect(page.locator(".messagelist .success")).to_contain_text("published")
    assert is_published(challenge)


@pytest.mark.django_db
def test_a_post_without_the_confirmation_publishes_nothing(
    teacher: User, teacher_client: Client
) -> None:
    challenge = draft(teacher)

    response = teacher_client.post(f"/admin/challenges/challenge/{challenge.pk}/publish/")

    assert response.status_code == 200
    assert "Yes, publish" in response.content.decode()
    assert not is_published(challenge)
