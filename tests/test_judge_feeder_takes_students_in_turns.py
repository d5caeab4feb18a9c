"""The feeder keeps the judge queue shallow and takes participants in turns: one
student's many submissions cannot starve a classmate's single one."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import override_settings

from judging.models import Submission, SubmissionState
from judging.services import submissions_feed
from tests.submissions import RecordingSender, participants, published_challenge, upload

pytestmark = pytest.mark.django_db


def test_a_late_single_submission_is_sent_before_a_busy_students_backlog(
    django_capture_on_commit_callbacks: Any,
) -> None:
    busy, other = participants(published_challenge(submissions_per_day=50), 2)
    backlog = [upload(busy) for _ in range(6)]
    single = upload(other)
    sender = RecordingSender()

    # Jobs go to the broker once the claim commits.
    with (
        override_settings(PPIPE_JUDGE_QUEUE_DEPTH=2),
        django_capture_on_commit_callbacks(execute=True),
    ):
        submissions_feed(send=sender)

    assert sender.submission_ids == [backlog[0].pk, single.pk]


def test_the_queue_never_holds_more_than_its_depth() -> None:
    (student,) = participants(published_challenge(submissions_per_day=50), 1)
    for _ in range(5):
        upload(student)
    sender = RecordingSender()

    with override_settings(PPIPE_JUDGE_QUEUE_DEPTH=3):
        first = submissions_feed(send=sender)
        second = submissions_feed(send=sender)

    assert (first, second) == (3, 0)
    assert Submission.objects.filter(state=SubmissionState.QUEUED).count() == 3
    assert Submission.objects.filter(state=SubmissionState.NEW).count() == 2


def test_the_job_names_its_inputs_by_digest_and_never_the_labels(
    django_capture_on_commit_callbacks: Any,
) -> None:
    challenge = published_challenge()
    submission = upload(participants(challenge, 1)[0])
    sender = RecordingSender()

    with django_capture_on_commit_callbacks(execute=True):
        submissions_feed(send=sender)

    (job,) = sender.jobs
    assert job["code"]["sha256"] == submission.code_sha256
    assert job["data"]["train_sha256"] == challenge.split.train_sha256
    assert job["data"]["test_features_sha256"] == challenge.split.test_features_sha256
    assert challenge.split.labels_sha256 not in str(job)
    assert job["limits"]["cpu_seconds"] == challenge.judging_rules.cpu_seconds_limit
    assert job["cv"] == {"folds": challenge.judging_rules.cv_folds, "seed": challenge.split_seed}
