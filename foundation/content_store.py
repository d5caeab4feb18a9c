"""Where the platform's two content stores are (settings): the artifact store,
which job executors on any machine may read, and the private store (hidden
labels), which only the control side reads."""

from __future__ import annotations

from django.conf import settings

from worker_wing.content_store import ContentStore


def artifact_store() -> ContentStore:
    return ContentStore(settings.PPIPE_ARTIFACT_DIR)


def private_store() -> ContentStore:
    return ContentStore(settings.PPIPE_PRIVATE_DIR)
