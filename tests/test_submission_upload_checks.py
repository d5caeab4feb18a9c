"""An upload is checked before it is kept: text, size, syntax and get_estimator,
parsed in a child process; the challenge must be open; failed and cancelled
submissions do not count against the daily limit."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from judging.models import Submission, SubmissionState
from tests.submissions import participants, published_challenge, upload
from worker_wing.pipeline.code_check import SubmissionRejected

pytestmark = pytest.mark.django_db


@pytest.fixture
def student() -> object:
    return participants(published_challenge(submissions_per_day=2), 1)[0]


@pytest.mark.parametrize(
    ("code", "message"),
    [
        (b"def get_estimator(:\n    pass\n", "does not parse: line 1"),
        (b"from sklearn.dummy import DummyClassifier\n", "must define get_estimator()"),
        (b"\x89PNG\r\n\x1a\n\x00\x00binary", "not UTF-8 text"),
        (b"   \n", "empty"),
        (b"x = " + b"(" * 100_000 + b")" * 100_000, "too many nested parentheses"),
    ],
)
def test_a_bad_file_is_refused_with_what_to_fix(student: object, code: bytes, message: str) -> None:
    with pytest.raises(SubmissionRejected, match=message):
        upload(student, code)  # type: ignore[arg-type]
    assert not Submission.objects.exists()


@override_settings(PPIPE_MAX_SUBMISSION_KB=1)
def test_a_file_over_the_size_limit_is_refused(student: object) -> None:
    code = b"def get_estimator():\n    return None\n" + b"# padding\n" * 200
    with pytest.raises(SubmissionRejected, match="at most 1 KB"):
        upload(student, code)  # type: ignore[arg-type]


def test_the_daily_limit_counts_neither_failed_nor_cancelled_ones(student: object) -> None:
    first = upload(student)  # type: ignore[arg-type]
    upload(student)  # type: ignore[arg-type]
    with pytest.raises(SubmissionRejected, match="used your 2 submissions"):
        upload(student)  # type: ignore[arg-type]

    Submission.objects.filter(pk=first.pk).update(state=SubmissionState.FAILED)

    assert upload(student).state == SubmissionState.NEW  # type: ignore[arg-type]


def test_a_closed_challenge_takes_no_submission() -> None:
    now = timezone.now()
    challenge = published_challenge(opens_at=now - timedelta(days=2), closes_at=now)
    with pytest.raises(SubmissionRejected, match="closed at"):
        upload(participants(challenge, 1)[0])
