"""A student's pages in headless Chromium, against a live server with real judge
workers: sign up with a join code, see why a broken file is refused, submit a good
one and watch it reach `scored` without reloading, then find the row and the
charts on the leaderboard."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.contrib.auth.models import User
from playwright.sync_api import Page, expect

from challenges.models import Participant
from judging.models import Submission
from tests.browser import patient_ms
from tests.judge_platform import judge_platform
from tests.submissions import LOGISTIC_REGRESSION, published_challenge

pytestmark = pytest.mark.django_db(transaction=True)


def sign_up(page: Page, code: str, username: str = "ada") -> None:
    page.goto("/")
    page.get_by_role("link", name="Sign up", exact=True).click()
    page.get_by_label("Username").fill(username)
    page.get_by_label("Email").fill(f"{username}@example.org")
    page.locator("#id_password1").fill("a long enough passphrase 42")
    page.locator("#id_password2").fill("a long enough passphrase 42")
    page.get_by_label("Join code").fill(code)
    page.get_by_role("button", name="Create my account and join").click()


def upload(page: Page, tmp_path: Path, code: bytes) -> None:
    path = tmp_path / "estimator.py"
    path.write_bytes(code)
    page.get_by_label("estimator.py").set_input_files(str(path))
    page.get_by_role("button", name="Submit for judging").click()


def test_a_wrong_join_code_creates_no_account(page: Page) -> None:
    published_challenge(join_code="owls-2026")
    sign_up(page, "owls-2025")
    expect(page.locator("#signup")).to_contain_text("No open challenge has this code")
    assert not User.objects.filter(username="ada").exists()


def test_submit_watch_it_be_scored_and_find_it_on_the_leaderboard(
    page: Page, tmp_path: Path
) -> None:
    challenge = published_challenge(join_code="owls-2026", cv_folds=3)
    sign_up(page, "owls-2026")
    expect(page.get_by_role("heading", name=challenge.name)).to_be_visible()
    assert Participant.objects.filter(challenge=challenge, user__username="ada").exists()

    upload(page, tmp_path, b"def get_estimator(:\n    return None\n")
    expect(page.locator("#submit .errorlist")).to_contain_text("line 1")
    assert not Submission.objects.exists()

    with judge_platform(beat=False) as platform:
        upload(page, tmp_path, LOGISTIC_REGRESSION)
        submission = Submission.objects.get()
        row = page.locator(f"#submission-{submission.pk}")
        expect(row).to_be_visible()
        # No reload from here: the table refreshes itself while the submission waits.
        expect(row.locator(".state")).to_have_text("scored", timeout=patient_ms(90))
        platform.wait_until_ended(submission)

    assert submission.state == "scored"
    row.get_by_role("button", name="Select for the final ranking").click()
    expect(page.locator(f"#submission-{submission.pk}")).to_contain_text("(selected)")
    expect(page.locator("#picks")).to_contain_text("1 of 1 pick used")
    expect(page.locator(f"#submission-{submission.pk}").get_by_role("button")).to_have_text(
        "Unselect"
    )

    page.get_by_role("link", name="leaderboard").first.click()
    board_row = page.locator("#leaderboard tr[data-participant='ada']")
    expect(board_row).to_contain_text(f"{submission.public_score:.4f}")
    cost = page.locator("#score-cost-chart")
    expect(cost.locator(".legendtext")).to_contain_text(["Pareto front", "you"])
    # Ada's point is the front and hers: drawn in both traces.
    assert cost.evaluate("(el) => el.data.map((t) => [t.name, t.text])") == [
        ["other participants", []],
        ["Pareto front", ["ada"]],
        ["you", ["ada"]],
    ]
    expect(page.locator("#score-history-chart .legendtext")).to_contain_text(["best so far", "you"])
