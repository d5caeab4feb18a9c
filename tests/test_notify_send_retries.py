"""Sending through a real SMTP connection: a mail server that cannot be reached
is tried again later with backoff, a bounded number of times, then the mail ends
failed with the reason; a refused recipient fails at once; the logs and the log
rows name the failure, never the password or the address. Beat's tick sends
again what a lost retry or a dead sender left behind."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from notifications.mail import Mail
from notifications.models import Notification, NotificationKind, NotificationState
from notifications.services import (
    notification_deliver,
    notification_record,
    notifications_reap,
    notifications_resend_due,
)
from tests.factories import StudentFactory
from tests.notifications import closed_port, refusing_smtp_server

pytestmark = pytest.mark.django_db
State = NotificationState
PASSWORD = "hunter2-smtp-password"


def recorded(key: str = "test-event:1") -> Notification:
    student = StudentFactory(email="private.person@example.org")
    notification = notification_record(
        key=key,
        kind=NotificationKind.RELEASE_ARRIVED,
        user_id=student.pk,
        email=student.email,
        challenge_id=None,
        compose=lambda: Mail("[ppipe] hello", "a body"),
    )
    assert notification is not None
    return notification


@pytest.fixture
def smtp(settings: Any) -> Any:
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_TIMEOUT = 5
    settings.PPIPE_NOTIFY_MAX_ATTEMPTS = 2
    settings.PPIPE_NOTIFY_BACKOFF_SECONDS = 30
    return settings


def test_an_unreachable_server_is_retried_with_backoff_then_the_mail_fails(
    smtp: Any, caplog: pytest.LogCaptureFixture
) -> None:
    smtp.EMAIL_PORT = closed_port()
    smtp.EMAIL_HOST_USER, smtp.EMAIL_HOST_PASSWORD = "ppipe", PASSWORD
    notification = recorded()
    before = timezone.now()

    first = notification_deliver(notification_id=notification.pk)
    notification.refresh_from_db()
    assert first.state == State.PENDING
    assert first.retry_in is not None
    assert 15 <= first.retry_in <= 45
    assert notification.next_attempt_at >= before + timedelta(seconds=15)
    assert "ConnectionRefusedError" in notification.error

    second = notification_deliver(notification_id=notification.pk)
    notification.refresh_from_db()
    assert (second.state, second.retry_in) == (State.FAILED, None)
    assert (notification.state, notification.attempts) == (State.FAILED, 2)
    assert "gave up after 2" in notification.error
    logged = caplog.text + notification.error
    assert "not sent, attempt 1 of 2; will retry" in caplog.text
    assert PASSWORD not in logged
    assert "private.person" not in logged


def test_a_refused_recipient_fails_at_once(smtp: Any) -> None:
    notification = recorded()

    with refusing_smtp_server() as port:
        smtp.EMAIL_PORT = port
        delivery = notification_deliver(notification_id=notification.pk)

    notification.refresh_from_db()
    assert delivery.state == State.FAILED
    assert (notification.attempts, notification.error) == (
        1,
        "SMTPRecipientsRefused: the server refused the recipient",
    )


def test_beats_ticks_resend_overdue_mails_and_take_back_a_dead_senders() -> None:
    now = timezone.now()
    overdue, dead, fresh = (recorded(f"test-event:{n}") for n in range(3))
    Notification.objects.filter(pk=overdue.pk).update(next_attempt_at=now - timedelta(minutes=5))
    Notification.objects.filter(pk=dead.pk).update(
        state=State.SENDING, attempts=1, lease_expires_at=now - timedelta(seconds=1)
    )
    sent: list[int] = []

    # The reaper's tick takes the dead sender's mail back; the resend tick sends.
    assert notifications_reap(now=now) == 1
    assert notifications_resend_due(send=sent.append, now=now) == 1
    assert notifications_resend_due(send=sent.append, now=now + timedelta(minutes=2)) == 3

    # The first tick: only the overdue retry; the dead sender's mail is pending again,
    # and goes with the next tick, as does any mail whose first message was lost.
    assert sent[0] == overdue.pk
    assert sorted(sent[1:]) == sorted([overdue.pk, dead.pk, fresh.pk])
    dead.refresh_from_db()
    assert (dead.state, dead.attempts) == (State.PENDING, 1)
