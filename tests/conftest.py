from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.test import Client
from playwright.sync_api import Browser, Page
from pytest_django.live_server_helper import LiveServer

from judging.feed_wakeups import feed_wakeup_release
from tests.browser import admin_log_in, chromium, patient_ms
from tests.database_flush import flush_cheaply
from tests.factories import TeacherFactory
from tests.processes import WorkerProcess


def pytest_configure() -> None:
    flush_cheaply()


def pytest_report_header() -> str:
    return f"ppipe test services: {settings.TEST_SERVICES_ORIGIN}"


@pytest.fixture(autouse=True)
def isolated_storage(settings: Any, tmp_path: Path) -> Path:
    """Each test gets its own upload, artifact and private folders."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path / "media")},
        },
    }
    settings.PPIPE_ARTIFACT_DIR = tmp_path / "artifacts"
    settings.PPIPE_PRIVATE_DIR = tmp_path / "private"
    return tmp_path


@pytest.fixture(autouse=True)
def empty_cache() -> None:
    """Each test starts with nothing cached (leaderboards are cached for seconds) and
    no throttle counted: this run's keys in the shared Redis, never anyone else's."""
    cache.clear()
    throttles = caches["throttles"]
    if isinstance(throttles, RedisCache):
        client = throttles._cache.get_client(write=True)
        prefix = settings.CACHES["throttles"]["KEY_PREFIX"]
        for key in client.scan_iter(match=f"{prefix}:*", count=1000):
            client.delete(key)
    else:
        throttles.clear()
    # No judge feed marked as queued by an earlier test (judging/feed_wakeups.py).
    feed_wakeup_release()


@pytest.fixture
def teacher(db: None) -> object:
    return TeacherFactory()


@pytest.fixture
def teacher_client(teacher: object) -> Client:
    client = Client()
    client.force_login(teacher)  # type: ignore[arg-type]
    return client


@pytest.fixture
def control_worker(transactional_db: None) -> Iterator[WorkerProcess]:
    """A real Celery worker process on the control queue, on the test database."""
    worker = WorkerProcess(["control"])
    try:
        yield worker.wait_ready()
    finally:
        worker.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Headless Chromium for a module's page tests. Playwright's sync API runs an
    asyncio loop in this thread, and Django then refuses ORM calls here as "async
    context"; only this thread's sync test code uses the ORM, the live server
    answers the browser from its own thread."""
    with pytest.MonkeyPatch.context() as patch, chromium() as browser:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        yield browser


@pytest.fixture
def page(browser: Browser, live_server: LiveServer) -> Iterator[Page]:
    """A fresh browser session against the live server."""
    context = browser.new_context(base_url=live_server.url, timezone_id="UTC")
    page = context.new_page()
    page.set_default_timeout(patient_ms(20))
    yield page
    context.close()


@pytest.fixture
def teacher_page(page: Page, teacher: Any) -> Page:
    """A fresh browser session, logged in to the admin as the teacher."""
    admin_log_in(page, teacher.username)
    return page
