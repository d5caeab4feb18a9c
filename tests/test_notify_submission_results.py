"""A scored or failed submission sends its author one mail, after the recording
commits, with the score or the reason and a link to the submission's page; a
student who switched submission results off gets none."""

from __future__ import annotations

from typing import Any

import pytest
from django.core import mail

from judging.services import submission_record_result
from notifications.models import Notification, NotificationState
from notifications.services import preferences_update
from tests.notifications import (
    eager_tasks,
    failed_result,
    mails_to,
    running_submission,
    scored_result,
)

pytestmark = pytest.mark.django_db


def test_a_scored_submission_sends_its_author_the_score_and_a_link(
    django_capture_on_commit_callbacks: Any, mailoutbox: list[Any]
) -> None:
    submission = running_submission()
    author = submission.participant.user

    with eager_tasks(), django_capture_on_commit_callbacks(execute=True):
        submission_record_result(result=scored_result(submission))
        assert mail.outbox == []  # nothing is sent inside the recording transaction

    submission.refresh_from_db()
    (sent,) = mails_to(author.email)
    assert len(mailoutbox) == 1
    assert f"#{submission.pk} scored {submission.public_score:.4f}" in sent.subject
    assert f"Public score (accuracy): {submission.public_score:.4f}" in sent.body
    assert f"http://127.0.0.1:8000/submissions/{submission.pk}/" in sent.body
    assert "switch them off at http://127.0.0.1:8000/notifications/" in sent.body


def test_a_failed_submission_sends_its_author_the_reason(
    django_capture_on_commit_callbacks: Any, mailoutbox: list[Any]
) -> None:
    submission = running_submission()
    reason = "get_estimator() raised ValueError: bad parameter"

    with eager_tasks(), django_capture_on_commit_callbacks(execute=True):
        submission_record_result(result=failed_result(submission, reason))

    (sent,) = mailoutbox
    assert sent.to == [submission.participant.user.email]
    assert f"Submission #{submission.pk} failed" in sent.subject
    assert f"Reason: {reason}" in sent.body
    assert f"/submissions/{submission.pk}/" in sent.body


def test_a_student_who_switched_results_off_gets_no_mail(
    django_capture_on_commit_callbacks: Any, mailoutbox: list[Any]
) -> None:
    submission = running_submission()
    preferences_update(
        user_id=submission.participant.user_id, changes={"submission_results": False}
    )

    with eager_tasks(), django_capture_on_commit_callbacks(execute=True):
        submission_record_result(result=scored_result(submission))

    assert mailoutbox == []
    logged = Notification.objects.get()
    assert (logged.state, logged.error) == (
        NotificationState.SKIPPED,
        "switched off by its recipient",
    )
