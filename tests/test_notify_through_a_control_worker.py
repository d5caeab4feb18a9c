"""End to end: recording a failed submission commits, then a real control worker
(through Redis) composes the mail and sends it with the embedded default, the
one-line console backend, so the worker's log shows it: one line a mail
(recipient and subject), not the body line by line through Celery's stdout."""

from __future__ import annotations

import pytest

from judging.services import submission_record_result
from notifications.models import Notification, NotificationState
from tests.notifications import failed_result, running_submission
from tests.processes import WorkerProcess
from tests.servers import wait_until


@pytest.mark.django_db(transaction=True)
def test_a_control_worker_sends_the_mail_after_the_commit(control_worker: WorkerProcess) -> None:
    submission = running_submission()

    submission_record_result(result=failed_result(submission, "predict() returned 3 rows"))

    wait_until(
        lambda: Notification.objects.filter(state=NotificationState.SENT).exists(),
        timeout=60,
        what=f"the mail sent by the control worker\n{control_worker.log_tail()}",
    )
    subject = f"[ppipe] Submission #{submission.pk} failed"
    wait_until(
        lambda: subject in control_worker.log_tail(400),
        timeout=10,
        what="the mail in the worker's log",
    )
    log = control_worker.log_tail(400)
    (line,) = [line for line in log.splitlines() if "ppipe.mail" in line]
    assert f"mail to {submission.participant.user.email}: {subject}" in line
    assert "predict() returned 3 rows" not in log
    assert "celery.redirected" not in log
