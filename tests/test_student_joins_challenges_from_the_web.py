"""Joining from the web, in Chromium: a signed-in student finds a second challenge
in the list, opens it and joins with the code typed in another case; sign-up takes
the code alone, in any case; a non-member of a published challenge gets its join
form, while a draft stays a 404; a signed-in student is not offered a second account."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from challenges.models import Participant
from tests.browser import PASSWORD
from tests.factories import ChallengeFactory, StudentFactory, TeacherFactory
from tests.submissions import participants, published_challenge

pytestmark = pytest.mark.django_db(transaction=True)


def log_in(page: Page, username: str) -> None:
    page.goto("/accounts/login/?next=/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Challenges", exact=True)).to_be_visible()


def test_a_student_in_one_challenge_joins_a_second_with_the_code_in_another_case(
    page: Page,
) -> None:
    first = published_challenge(join_code="owls-2026")
    second = published_challenge(join_code="Hawks-2026")
    roster_only = published_challenge(join_code="")
    draft = ChallengeFactory(join_code="draft-2026")
    (ada,) = participants(first, 1)
    log_in(page, ada.user.username)

    expect(page.locator("#my-challenges")).to_contain_text(first.name)
    joinable = page.locator("#joinable-challenges")
    expect(joinable).to_contain_text(second.name)
    for hidden in (first, roster_only, draft):
        expect(joinable).not_to_contain_text(hidden.name)

    joinable.get_by_role("link", name=second.name).click()
    expect(page.get_by_role("heading", name=second.name)).to_be_visible()
    page.get_by_label("Join code").fill("hAWKS-2026")
    page.get_by_role("button", name="Join the challenge").click()

    expect(page.get_by_role("button", name="Submit for judging")).to_be_visible()
    assert page.url.endswith(f"/challenges/{second.slug}/")
    assert Participant.objects.filter(challenge=second, user=ada.user).exists()

    page.goto("/signup/")
    expect(page.locator("#already-signed-up")).to_contain_text("You already have an account")
    expect(page.locator("#signup")).to_have_count(0)


def test_sign_up_with_the_code_in_upper_case(page: Page) -> None:
    challenge = published_challenge(join_code="owls-2026")
    page.goto("/signup/")
    page.get_by_label("Join code").fill("OWLS-2026")
    page.get_by_label("Username").fill("ada")
    page.get_by_label("Email").fill("ada@example.org")
    page.locator("#id_password1").fill("a long enough passphrase 42")
    page.locator("#id_password2").fill("a long enough passphrase 42")
    page.get_by_role("button", name="Create my account and join").click()

    expect(page.get_by_role("heading", name=challenge.name)).to_be_visible()
    expect(page.get_by_role("button", name="Submit for judging")).to_be_visible()
    assert Participant.objects.filter(challenge=challenge, user__username="ada").exists()


def test_a_non_member_gets_the_join_form_and_a_draft_stays_hidden(page: Page) -> None:
    published = published_challenge(join_code="owls-2026")
    draft = ChallengeFactory(owner=TeacherFactory(), join_code="draft-2026")
    log_in(page, StudentFactory().username)

    answer = page.goto(f"/challenges/{published.slug}/")
    assert answer is not None
    assert answer.status == 200
    expect(page.locator("form#join")).to_be_visible()
    expect(page.get_by_label("Join code")).to_be_empty()
    expect(page.get_by_role("button", name="Submit for judging")).to_have_count(0)
    # Its leaderboard, from a link shared in class, leads to the same join form.
    page.goto(f"/challenges/{published.slug}/leaderboard/")
    expect(page.locator(".messages")).to_contain_text("Join this challenge with its code")
    assert page.url.endswith(f"/challenges/{published.slug}/")

    for path in (f"/challenges/{draft.slug}/", f"/challenges/{draft.slug}/leaderboard/"):
        hidden = page.goto(path)
        assert hidden is not None
        assert hidden.status == 404
        expect(page.locator("body")).not_to_contain_text(draft.name)
