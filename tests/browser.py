"""Headless Chromium, driven by Playwright's sync API, for tests that click through pages.

The machine's Chromium is used (no `playwright install`, no network).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.test import Client
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

from tests.servers import patience

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",  # the suite runs as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PASSWORD = "correct horse battery staple"  # TeacherFactory's
# What an expect() may wait by default on an idle machine (Playwright's own is 5 s): the
# live server answers from a thread of the test process, which a loaded machine slows.
EXPECT_SECONDS = 10


def patient_ms(seconds: float) -> float:
    """A browser wait's deadline in milliseconds: `seconds` on an idle machine, grown
    with the machine's load as every wait of the tests is (tests/servers.py)."""
    return seconds * 1000 * patience()


@contextmanager
def chromium() -> Iterator[Browser]:
    expect.set_options(timeout=patient_ms(EXPECT_SECONDS))
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def admin_log_in(page: Page, username: str, password: str = PASSWORD) -> None:
    """Log in through the admin's own login page, as a person would."""
    page.goto("/admin/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#user-tools")).to_contain_text(f"Welcome, {username}")


def signed_in_context(
    browser: Browser, base_url: str, user: object, **options: Any
) -> BrowserContext:
    """A browser session already signed in as `user` (its session cookie set), for
    tests about what a page shows rather than about signing in."""
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    context = browser.new_context(base_url=base_url, timezone_id="UTC", **options)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": base_url}])
    return context
