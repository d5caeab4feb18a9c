"""A teacher who opens the operations page gets a page in the admin's style, not
a bare 403: it says the page is the operators' and where their own challenges'
jobs are, and shows nothing of the queues or anyone's jobs."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from judging.models import SubmissionState
from tests.browser import admin_log_in
from tests.factories import SubmissionFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_teacher_gets_a_styled_refusal_that_says_who_may_see_the_page(
    page: Page, teacher: User
) -> None:
    failed = SubmissionFactory(state=SubmissionState.FAILED, reason="fit raised KeyError")
    admin_log_in(page, teacher.username)

    response = page.goto("/admin/operations/")

    assert response is not None
    assert response.status == 403
    expect(page.locator("#operations-refused")).to_contain_text("operators (superusers)")
    expect(page.locator("#user-tools")).to_contain_text(f"Welcome, {teacher.username}")
    header = page.locator("#header").evaluate("e => getComputedStyle(e).backgroundColor")
    assert header not in ("rgba(0, 0, 0, 0)", "transparent")  # the admin's CSS applies
    expect(page.locator("#queues")).to_have_count(0)
    assert failed.reason not in page.content()
    page.locator("#content").get_by_role("link", name="submissions").click()
    expect(page.locator("#content h1")).to_contain_text("submission")
