"""Writes: a person's switches, recording a mail once per event, sending it.

Recording is idempotent by the event's key, so a trigger delivered twice (a
redelivered task, a repeated tick) sends one mail. Sending claims the row with a
conditional update (`pending → sending`), so two deliveries of the same message
never both send; a transient failure puts it back to `pending` for a later
attempt (bounded, with backoff), a permanent one ends it `failed`. Logs and the
stored error name the failure, never the recipient's address or a credential.
"""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from foundation.leases import Backoff, Lifecycle
from notifications import signals
from notifications.mail import Mail
from notifications.models import Notification, NotificationPreferences, NotificationState
from notifications.selectors import SWITCH_OF_KIND, preferences_of, wants

logger = logging.getLogger(__name__)
State = NotificationState
# A mail's sender claims and sends it itself: no separate "running" report.
LIFECYCLE = Lifecycle(
    Notification,
    waiting=State.PENDING,
    claimed=State.SENDING,
    running=None,
    failed=State.FAILED,
    counts_at="claim",
    backoff=Backoff("PPIPE_NOTIFY_BACKOFF_SECONDS", "PPIPE_NOTIFY_BACKOFF_MAX_SECONDS"),
)
PREFERENCE_FIELDS = tuple(sorted(set(SWITCH_OF_KIND.values())))
# A claimed send that has not ended by then is taken back: the SMTP exchange is
# bounded by EMAIL_TIMEOUT per step.
_LEASE_MARGIN_SECONDS = 120


def preferences_update(*, user_id: int, changes: dict[str, bool]) -> NotificationPreferences:
    """Switch kinds of mail on or off; unknown names are refused."""
    unknown = set(changes) - set(PREFERENCE_FIELDS)
    if unknown:
        raise ValueError(f"Unknown notification switches: {', '.join(sorted(unknown))}.")
    preferences, _ = NotificationPreferences.objects.get_or_create(user_id=user_id)
    for name, value in changes.items():
        setattr(preferences, name, bool(value))
    preferences.save()
    return preferences


def _skip_reason(user_id: int, email: str, kind: str) -> str:
    if not wants(preferences_of(user_id), kind):
        return "switched off by its recipient"
    if not email:
        return "the recipient has no email address"
    return ""


def notification_record(
    *,
    key: str,
    kind: str,
    user_id: int,
    email: str,
    challenge_id: int | None,
    compose: Callable[[], Mail],
) -> Notification | None:
    """Record the mail that tells of event `key`, once, and send it after the
    commit; None when the event was recorded before. A kind its recipient
    switched off is recorded as skipped (the log says why nothing was sent)."""
    if Notification.objects.filter(key=key).exists():
        return None
    mail = compose()
    skip = _skip_reason(user_id, email, kind)
    try:
        with transaction.atomic():
            notification = Notification.objects.create(
                key=key,
                kind=kind,
                user_id=user_id,
                challenge_id=challenge_id,
                to_email=email,
                subject=mail.subject[:200],
                body=mail.body,
                state=State.SKIPPED if skip else State.PENDING,
                error=skip,
                max_attempts=settings.PPIPE_NOTIFY_MAX_ATTEMPTS,
                next_attempt_at=timezone.now(),
            )
    except IntegrityError:  # the same event recorded concurrently: it sends, not us
        return None
    if not skip:
        transaction.on_commit(
            partial(
                signals.notification_recorded.send,
                sender=Notification,
                notification_id=notification.pk,
            )
        )
    return notification


@dataclass(frozen=True)
class Delivery:
    state: str
    # Seconds until the next attempt, when there is one.
    retry_in: float | None = None


def is_transient(error: Exception) -> bool:
    """Worth another attempt: the server was unreachable, busy or refused for now
    (4xx). A refused address or a malformed message (5xx, a bad header) is not."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return False
    if isinstance(error, smtplib.SMTPAuthenticationError):
        return True  # the operator may fix the credentials before retries run out
    if isinstance(error, smtplib.SMTPResponseException):
        return error.smtp_code < 500
    return isinstance(error, OSError)  # connection refused, timeout, disconnected


def _described(error: Exception) -> str:
    # The exception's class and the server's words: never the settings, never the
    # address (a refused recipient's address is dropped).
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        return "SMTPRecipientsRefused: the server refused the recipient"
    return f"{type(error).__name__}: {str(error)[:300]}"


def notification_deliver(*, notification_id: int, now: datetime | None = None) -> Delivery:
    """Send one recorded mail, if no one else is or did."""
    now = now or timezone.now()
    lease = now + timedelta(seconds=2 * settings.EMAIL_TIMEOUT + _LEASE_MARGIN_SECONDS)
    if not LIFECYCLE.claim(notification_id, attempts=None, lease=lease):
        return Delivery("not pending")
    row = Notification.objects.get(id=notification_id)
    message = EmailMessage(row.subject, row.body, settings.DEFAULT_FROM_EMAIL, [row.to_email])
    try:
        message.send(fail_silently=False)
    except Exception as error:
        return _failed(row, error, now)
    LIFECYCLE.end(row.id, State.SENT, only_from=(State.SENDING,), sent_at=timezone.now(), error="")
    return Delivery(State.SENT)


def _failed(row: Notification, error: Exception, now: datetime) -> Delivery:
    reason = _described(error)
    retry = is_transient(error) and row.attempts < row.max_attempts
    logger.warning(
        "notification %s (%s) not sent, attempt %s of %s%s: %s",
        row.id,
        row.kind,
        row.attempts,
        row.max_attempts,
        "; will retry" if retry else "; giving up",
        reason,
    )
    final = reason if not is_transient(error) else f"{reason} (gave up after {row.attempts})"
    outcome = LIFECYCLE.retry_or_fail(
        row,
        transient=is_transient(error),
        now=now,
        retry_fields={"error": reason},
        fail_fields={"error": final},
    )
    if outcome.state == State.PENDING:
        assert outcome.at is not None
        return Delivery(State.PENDING, retry_in=(outcome.at - now).total_seconds())
    return Delivery(State.FAILED)


def notifications_reap(*, now: datetime | None = None) -> int:
    """Take back sends whose sender died (the mail may have gone: delivery is at
    least once), due again at once, or end them when their attempts ran out."""
    now = now or timezone.now()
    stale = LIFECYCLE.expired(now)
    failed = stale.filter(attempts__gte=F("max_attempts")).update(
        state=State.FAILED, lease_expires_at=None, error="its sender stopped answering"
    )
    return failed + stale.update(state=State.PENDING, lease_expires_at=None, next_attempt_at=now)


def notifications_resend_due(
    *, send: Callable[[int], None], now: datetime | None = None, grace_seconds: int = 60
) -> int:
    """Beat's safety net: send again the mails whose retry is overdue (its message
    was lost, or notifications_reap took it back)."""
    now = now or timezone.now()
    due = Notification.objects.filter(
        state=State.PENDING, next_attempt_at__lt=now - timedelta(seconds=grace_seconds)
    ).values_list("id", flat=True)[:500]
    ids = list(due)
    for notification_id in ids:
        send(notification_id)
    return len(ids)
