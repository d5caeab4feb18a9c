from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import Client

from tests.factories import TeacherFactory
from tests.processes import WorkerProcess


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
    """Each test starts with nothing cached (leaderboards are cached for seconds)."""
    cache.clear()


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
