"""A page left open in a background tab stops polling, and catches up the moment it
is seen again: a class's leaderboards open all day in hidden tabs cost the server
nothing. Headless Chromium against a live server, its timers on Playwright's clock
(so six intervals pass without waiting for them)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import Browser, expect
from pytest_django.live_server_helper import LiveServer

from foundation.live_fragments import POLL_TRIGGER
from tests.browser import patient_ms, signed_in_context
from tests.submissions import participants, published_challenge

pytestmark = pytest.mark.django_db(transaction=True)

COUNT_POLLS = """() => {
  window.ppipePolls = 0;
  window.ppipeAnswered = 0;
  document.body.addEventListener('htmx:beforeRequest', () => { window.ppipePolls += 1; });
  document.body.addEventListener('htmx:afterRequest', () => { window.ppipeAnswered += 1; });
}"""
# What a browser does when the tab goes to the background or comes back.
SHOWN = """(state) => {
  Object.defineProperty(document, 'visibilityState', {value: state, configurable: true});
  document.dispatchEvent(new Event('visibilitychange'));
}"""


def test_a_hidden_tab_does_not_poll_and_polls_at_once_when_seen(
    browser: Browser, live_server: LiveServer
) -> None:
    challenge = published_challenge()
    (ada,) = participants(challenge, 1)
    context = signed_in_context(browser, live_server.url, ada.user)
    page = context.new_page()
    page.set_default_timeout(patient_ms(20))
    page.clock.install()
    page.goto(f"/challenges/{challenge.slug}/leaderboard/")
    page.clock.pause_at(datetime.now(UTC) + timedelta(seconds=1))  # time moves only when told
    expect(page.locator("#board")).to_have_attribute("hx-trigger", POLL_TRIGGER)
    page.evaluate(COUNT_POLLS)

    page.clock.run_for(5_500)
    page.wait_for_function("() => window.ppipePolls >= 1")  # seen: it polls
    # Answered: a poll still in flight would hold the next ones back (htmx queues them).
    page.wait_for_function("() => window.ppipeAnswered >= window.ppipePolls")

    page.evaluate(SHOWN, "hidden")
    page.evaluate("() => { window.ppipePolls = 0; }")
    page.clock.run_for(30_000)  # six intervals in the background
    assert page.evaluate("() => window.ppipePolls") == 0

    page.evaluate(SHOWN, "visible")
    page.wait_for_function("() => window.ppipePolls >= 1")  # at once, no interval waited
    context.close()
