"""Pages that move while something can change, without a reload, in headless
Chromium against a live server and real workers: a submission's page goes from
waiting to scored as a judge worker scores it, then stops polling; the
leaderboard shows another student's new row when a judge worker scores it, with
the reader's own row marked (and only theirs)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, expect
from pytest_django.live_server_helper import LiveServer

from foundation.live_fragments import POLL_TRIGGER
from judging.services import submission_create
from tests.browser import patient_ms, signed_in_context
from tests.judge_platform import judge_platform
from tests.submissions import LOGISTIC_REGRESSION, participants, published_challenge

pytestmark = pytest.mark.django_db(transaction=True)

# Set on window once the page is open: a reload or a navigation would lose it.
MARK = "() => { window.ppipeNoReload = 'still here'; }"
MARKED = "() => window.ppipeNoReload"


def test_submission_and_leaderboard_pages_follow_the_judge(
    browser: Browser, live_server: LiveServer
) -> None:
    challenge = published_challenge(cv_folds=3)
    ada, grace = participants(challenge, 2)
    context = signed_in_context(browser, live_server.url, ada.user)
    mine = context.new_page()
    mine.set_default_timeout(patient_ms(20))

    # Uploaded before any worker runs: the page opens on a submission still waiting.
    submission = submission_create(
        participant=ada, filename="estimator.py", content=LOGISTIC_REGRESSION
    )
    mine.goto(f"/submissions/{submission.pk}/")
    expect(mine.locator("#state")).to_have_text(re.compile("^(new|queued)$"))
    expect(mine.locator("#submission-live")).to_have_attribute("hx-trigger", POLL_TRIGGER)
    mine.evaluate(MARK)

    with judge_platform(beat=True) as platform:
        expect(mine.locator("#state")).to_have_text("scored", timeout=patient_ms(120))
        expect(mine.locator("#folds tbody tr")).to_have_count(3)
        assert mine.evaluate(MARKED) == "still here"
        # Final: the fragment no longer asks to be polled.
        expect(mine.locator("#submission-live")).not_to_have_attribute("hx-trigger", POLL_TRIGGER)

        mine.goto(f"/challenges/{challenge.slug}/leaderboard/")
        board = mine.locator("#leaderboard tbody")
        expect(board.locator("tr.me")).to_have_count(1)
        expect(board.locator("tr.me")).to_have_attribute("data-participant", ada.user.username)
        expect(board.locator(f"tr[data-participant='{grace.user.username}']")).to_have_count(0)
        mine.evaluate(MARK)

        # Another student's submission, scored by the judge worker while ada watches.
        other = submission_create(
            participant=grace, filename="estimator.py", content=LOGISTIC_REGRESSION
        )
        grace_row = board.locator(f"tr[data-participant='{grace.user.username}']")
        expect(grace_row).to_have_count(1, timeout=patient_ms(120))
        platform.wait_until_ended(other)
        assert other.state == "scored"

    assert mine.evaluate(MARKED) == "still here"
    expect(board.locator("tr")).to_have_count(2)
    expect(board.locator("tr.me")).to_have_count(1)
    expect(board.locator("tr.me")).to_have_attribute("data-participant", ada.user.username)
    assert "me" not in (grace_row.get_attribute("class") or "")
    context.close()
