"""The data section in headless Chromium on a phone's width (390 px): a release
delivered while the page is open appears without a reload (htmx polling), with
the sha256 of the file delivered; its download in the browser is that file; and
the section fits the phone's width."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from challenges.services import challenge_publish, participant_enroll
from tests.browser import PASSWORD, patient_ms
from tests.delivered_releases import per_student_challenge, release_due_to
from tests.factories import StudentFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_release_appears_without_a_reload_and_downloads_on_a_phone(
    page: Page, tmp_path: Path
) -> None:
    challenge = per_student_challenge(tmp_path / "class", release_downloads=True)
    participant_enroll(challenge=challenge, user=StudentFactory(username="ada"))
    challenge_publish(challenge=challenge)
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"/accounts/login/?next=/challenges/{challenge.slug}/")
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    section = page.locator("#data-section")
    expect(section).to_contain_text("No release has reached you yet")
    expect(section).to_contain_text(str(tmp_path / "class" / challenge.slug / "ada"))

    release_due_to("ada")

    row = page.locator("#data-releases [data-sequence='1']")
    expect(row).to_be_visible(timeout=patient_ms(60))  # no reload: the section polls itself
    delivered = (tmp_path / "class" / challenge.slug / "ada" / "release-001.parquet").read_bytes()
    expect(row.locator(".data-sha256")).to_have_text(hashlib.sha256(delivered).hexdigest())
    expect(section).to_contain_text("Next release due")
    # Nothing in the section reaches past the phone's width (the rest of the page
    # is the other sections' business).
    overflowing = page.evaluate(
        """() => [...document.querySelectorAll('#data-section, #data-section *')]
            .filter(e => e.getBoundingClientRect().right > window.innerWidth)
            .map(e => e.tagName + '.' + e.className)"""
    )
    assert overflowing == []

    with page.expect_download() as download:
        row.get_by_role("link", name="Download release-001.parquet").click()
    assert download.value.suggested_filename == "release-001.parquet"
    assert Path(download.value.path()).read_bytes() == delivered
