"""At-least-once delivery sends a mail once: a notify task redelivered, a send
task run twice, or a release reported again find the event's notification and
send nothing more; a submission judged again and scored again is a new event."""

from __future__ import annotations

from typing import Any

import pytest

from judging.services import (
    submission_mark_started,
    submission_record_result,
    submission_rejudge,
    submissions_feed,
)
from notifications.models import Notification, NotificationState
from notifications.tasks import deliver_notification, notify_submission_ended
from tests.notifications import eager_tasks, running_submission, scored_result
from tests.submissions import RecordingSender

pytestmark = pytest.mark.django_db


def test_a_redelivered_notify_task_and_a_repeated_send_mail_once(
    django_capture_on_commit_callbacks: Any, mailoutbox: list[Any]
) -> None:
    submission = running_submission()
    submission_record_result(result=scored_result(submission))
    message = {"submission_id": submission.pk, "attempt": 1}

    with eager_tasks(), django_capture_on_commit_callbacks(execute=True):
        assert notify_submission_ended.apply(kwargs=message).get() is True
        assert notify_submission_ended.apply(kwargs=message).get() is False  # redelivered
    notification = Notification.objects.get()
    assert deliver_notification.apply((notification.pk,)).get() == "not pending"

    assert len(mailoutbox) == 1
    notification.refresh_from_db()
    assert (notification.state, notification.attempts) == (NotificationState.SENT, 1)


def test_a_submission_scored_again_after_a_rejudge_is_told_again(
    django_capture_on_commit_callbacks: Any, mailoutbox: list[Any]
) -> None:
    submission = running_submission()
    with eager_tasks(), django_capture_on_commit_callbacks(execute=True):
        submission_record_result(result=scored_result(submission))
    assert submission_rejudge(submission=submission)
    submissions_feed(send=RecordingSender())
    assert submission_mark_started(submission_id=submission.pk, attempt=1, worker="w2")
    submission.refresh_from_db()
    with eager_tasks(), django_capture_on_commit_callbacks(execute=True):
        submission_record_result(result=scored_result(submission))

    assert len(mailoutbox) == 2
    assert Notification.objects.filter(state=NotificationState.SENT).count() == 2
