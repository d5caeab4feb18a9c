"""Submissions for tests: a published challenge, its participants, and uploads made
through the real service (code stored in the artifact store, checks run)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from challenges.models import Challenge, Participant
from challenges.selectors import with_sections
from challenges.services import challenge_publish
from judging.models import Submission
from judging.services import submission_create
from tests.factories import ChallengeFactory, ParticipantFactory

LOGISTIC_REGRESSION = b"""\
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def get_estimator():
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=500))
"""


def published_challenge(**fields: Any) -> Challenge:
    """Published, and read again as the site's selectors read a challenge: with its
    sections' rows (challenges/sections.py)."""
    challenge = ChallengeFactory(**fields)
    challenge_publish(challenge=challenge)
    return with_sections(Challenge.objects.all()).get(pk=challenge.pk)


def participants(challenge: Challenge, count: int) -> list[Participant]:
    return [ParticipantFactory(challenge=challenge) for _ in range(count)]


def upload(participant: Participant, code: bytes = LOGISTIC_REGRESSION) -> Submission:
    return submission_create(participant=participant, filename="estimator.py", content=code)


class RecordingSender:
    """Stands in for the broker where only the database rules are under test."""

    def __init__(self) -> None:
        self.jobs: list[dict[str, Any]] = []

    def __call__(
        self, submission_id: int, job: dict[str, Any], expires: datetime, task_id: str
    ) -> None:
        self.jobs.append(job)

    @property
    def submission_ids(self) -> list[int]:
        return [job["submission_id"] for job in self.jobs]
