"""Runs and stored files for the retention tests: files in the test's own artifact
store (tests/conftest.py), made old enough for the collector's grace period, and
scored runs that ended long ago."""

from __future__ import annotations

import os
import time
from datetime import timedelta
from typing import Any

from django.utils import timezone

from challenges.models import Participant
from foundation.content_store import artifact_store
from judging.models import Submission, SubmissionState
from tests.factories import SubmissionFactory

DAY = 24 * 3600


def stored(content: bytes, *, age_days: float = 30) -> str:
    """Stored, and dated `age_days` ago (past the collector's grace period)."""
    digest = artifact_store().put_bytes(content)
    age(digest, age_days)
    return digest


def age(digest: str, days: float) -> None:
    then = time.time() - days * DAY
    os.utime(artifact_store().path_for(digest), (then, then))


def age_whole_store(days: float = 30) -> None:
    """Every file of the store dated `days` ago: only references keep them now."""
    then = time.time() - days * DAY
    for path in artifact_store().root.rglob("*"):
        if path.is_file():
            os.utime(path, (then, then))


def in_store(digest: str) -> bool:
    return artifact_store().path_for(digest).exists()


def ended_run(
    participant: Participant,
    *,
    artifacts: dict[str, str],
    score: float | None = 0.5,
    days_ago: float = 200,
    **fields: Any,
) -> Submission:
    """A run that ended `days_ago` days ago with these artifacts and this score (public,
    private and cross-validation alike)."""
    fields.setdefault("state", SubmissionState.SCORED)
    return SubmissionFactory(
        participant=participant,
        public_score=score,
        private_score=score,
        cv_mean=score,
        finished_at=timezone.now() - timedelta(days=days_ago),
        artifacts=artifacts,
        **fields,
    )
