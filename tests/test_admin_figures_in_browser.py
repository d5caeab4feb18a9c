"""What a teacher sees in the admin, in headless Chromium: a submission's figures
(scores, CPU, memory, contributivity) are text on a view-only page, with no input
and no Save button; an endpoint's page offers one input, whether it is probed."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from judging.models import SubmissionState
from probing.services import endpoint_register
from tests.factories import ParticipantFactory, SubmissionFactory
from tests.submissions import published_challenge

pytestmark = pytest.mark.django_db(transaction=True)
FIELDS = "input:not([type=hidden]):not([type=submit]), textarea, select"


def test_a_submissions_figures_are_text_with_nothing_to_edit(
    teacher_page: Page, teacher: User
) -> None:
    student = ParticipantFactory(challenge=published_challenge(owner=teacher))
    submission = SubmissionFactory(
        participant=student,
        state=SubmissionState.SCORED,
        public_score=0.9123,
        cpu_seconds=1.75,
        peak_memory_mb=141.5,
        contributivity=37.5,
    )

    teacher_page.goto(f"/admin/judging/submission/{submission.pk}/change/")

    form = teacher_page.locator("#submission_form")
    expect(form.locator(".field-contributivity .readonly")).to_have_text("37.5")
    expect(form.locator(".field-public_score .readonly")).to_have_text("0.9123")
    expect(form.locator(".field-cpu_seconds .readonly")).to_have_text("1.75")
    expect(form.locator(".field-peak_memory_mb .readonly")).to_have_text("141.5")
    expect(form.locator(FIELDS)).to_have_count(0)
    expect(teacher_page.get_by_role("button", name="Save", exact=True)).to_have_count(0)


def test_an_endpoints_page_offers_only_whether_it_is_probed(
    teacher_page: Page, teacher: User
) -> None:
    student = ParticipantFactory(challenge=published_challenge(owner=teacher))
    endpoint, _ = endpoint_register(
        participant=student, url="https://model.example.org", protocol="json"
    )

    teacher_page.goto(f"/admin/probing/endpoint/{endpoint.pk}/change/")

    form = teacher_page.locator("#endpoint_form")
    names = [field.get_attribute("name") for field in form.locator(FIELDS).all()]
    assert names == ["active"]
    expect(form.locator(".field-url .readonly")).to_have_text("https://model.example.org")
