"""The lifecycle's steps (foundation/leases.py) as two of its users' policies
apply them: submissions count an attempt when a worker starts the run and retry
at once; mails count one when claimed and back off. Each app's own tests cover
its timeline; these pin what the shared steps promise."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from judging.models import Submission, SubmissionState
from judging.services import LIFECYCLE as SUBMISSIONS
from notifications.models import Notification, NotificationState
from notifications.services import LIFECYCLE as MAILS
from tests.submissions import participants, published_challenge, upload
from tests.test_notify_send_retries import recorded

pytestmark = pytest.mark.django_db


def _submission() -> Submission:
    (student,) = participants(published_challenge(), 1)
    return upload(student)


def test_a_claim_is_taken_once_and_counts_where_the_policy_says() -> None:
    submission, mail = _submission(), recorded()
    lease = timezone.now() + timedelta(minutes=1)

    assert SUBMISSIONS.claim(submission.pk, attempts=0, lease=lease)
    assert not SUBMISSIONS.claim(submission.pk, attempts=0, lease=lease)  # a second beat
    assert MAILS.claim(mail.pk, attempts=None, lease=lease)
    assert not MAILS.claim(mail.pk, attempts=None, lease=lease)

    submission.refresh_from_db()
    mail.refresh_from_db()
    # A judge message that expires unseen costs the student nothing; a mail's does.
    assert (submission.state, submission.attempts) == (SubmissionState.QUEUED, 0)
    assert (mail.state, mail.attempts) == (NotificationState.SENDING, 1)


def test_a_late_start_of_a_run_taken_back_changes_nothing() -> None:
    submission = _submission()
    now = timezone.now()
    SUBMISSIONS.claim(submission.pk, attempts=0, lease=now - timedelta(seconds=1))

    (expired,) = SUBMISSIONS.expired(now)
    assert SUBMISSIONS.unclaim(expired.pk, attempts=0)
    assert not SUBMISSIONS.start(submission.pk, attempt=1, lease=now + timedelta(minutes=1))

    submission.refresh_from_db()
    assert (submission.state, submission.attempts) == (SubmissionState.NEW, 0)


def test_a_started_run_is_current_until_it_ends_and_its_heartbeat_extends_the_lease() -> None:
    submission = _submission()
    now = timezone.now()
    SUBMISSIONS.claim(submission.pk, attempts=0, lease=now + timedelta(seconds=5))
    queued = Submission.objects.get(pk=submission.pk)
    # A result may overtake its "started" report.
    assert SUBMISSIONS.is_current(queued, 1)
    assert SUBMISSIONS.start(submission.pk, attempt=1, lease=now + timedelta(seconds=5))
    assert SUBMISSIONS.heartbeat(submission.pk, attempt=1, lease=now + timedelta(hours=1))
    assert not SUBMISSIONS.heartbeat(submission.pk, attempt=2, lease=now + timedelta(days=1))

    running = Submission.objects.get(pk=submission.pk)
    assert running.lease_expires_at == now + timedelta(hours=1)
    assert SUBMISSIONS.is_current(running, 1)
    assert not SUBMISSIONS.is_current(running, 2)
    assert not SUBMISSIONS.expired(now + timedelta(minutes=30)).exists()


def test_retry_or_fail_backs_off_by_policy_and_ends_when_attempts_run_out() -> None:
    mail, submission = recorded(), _submission()
    now = timezone.now()
    Notification.objects.filter(pk=mail.pk).update(max_attempts=2)
    MAILS.claim(mail.pk, attempts=None, lease=now)
    first = MAILS.retry_or_fail(Notification.objects.get(pk=mail.pk), transient=True, now=now)
    SUBMISSIONS.claim(submission.pk, attempts=0, lease=now)
    SUBMISSIONS.start(submission.pk, attempt=1, lease=now)
    again = SUBMISSIONS.retry_or_fail(
        Submission.objects.get(pk=submission.pk), transient=True, now=now
    )

    assert (first.state, first.changed) == (NotificationState.PENDING, True)
    assert first.at is not None
    assert first.at > now  # backed off
    assert Notification.objects.get(pk=mail.pk).next_attempt_at == first.at
    assert (again.state, again.changed, again.at) == (SubmissionState.NEW, True, None)

    MAILS.claim(mail.pk, attempts=None, lease=now)
    last = MAILS.retry_or_fail(Notification.objects.get(pk=mail.pk), transient=True, now=now)
    assert (last.state, last.changed) == (NotificationState.FAILED, True)
    # A permanent failure ends at once, whatever attempts remain.
    SUBMISSIONS.claim(submission.pk, attempts=1, lease=now)
    SUBMISSIONS.start(submission.pk, attempt=2, lease=now)
    final = SUBMISSIONS.retry_or_fail(
        Submission.objects.get(pk=submission.pk), transient=False, now=now
    )
    assert final.state == SubmissionState.FAILED


def test_the_step_that_got_there_first_wins() -> None:
    submission = _submission()
    now = timezone.now()
    SUBMISSIONS.claim(submission.pk, attempts=0, lease=now)
    SUBMISSIONS.start(submission.pk, attempt=1, lease=now)
    seen = Submission.objects.get(pk=submission.pk)
    # A cancel lands between the read and the retry.
    Submission.objects.filter(pk=submission.pk).update(state=SubmissionState.CANCELLED)

    outcome = SUBMISSIONS.retry_or_fail(seen, transient=True, now=now)

    assert not outcome.changed
    assert Submission.objects.get(pk=submission.pk).state == SubmissionState.CANCELLED
