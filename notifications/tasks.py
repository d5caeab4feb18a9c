"""Thin tasks on the control queue: turning an event into mails, sending one,
and beat's ticks (outages and overdue sends; the teachers' digest).

Turning an event into mails is idempotent by the event's key, so those tasks are
acknowledged late and retried through a database outage like the record tasks.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import shared_task
from django.dispatch import receiver
from kombu.exceptions import OperationalError as BrokerUnreachable

from dispatch.signals import release_delivered
from foundation.celery import RECORD_TASK_OPTIONS
from judging.signals import submission_ended
from notifications.signals import notification_recorded

logger = logging.getLogger(__name__)


@shared_task(
    name="notifications.tasks.notify_submission_ended", ignore_result=True, **RECORD_TASK_OPTIONS
)
def notify_submission_ended(submission_id: int, attempt: int) -> bool:
    from notifications.events import submission_ended_notify

    return submission_ended_notify(submission_id=submission_id, attempt=attempt)


@shared_task(
    name="notifications.tasks.notify_release_delivered", ignore_result=True, **RECORD_TASK_OPTIONS
)
def notify_release_delivered(transaction_id: int) -> int:
    # Kept for messages queued before deliveries were announced together.
    return notify_releases_delivered([transaction_id])


@shared_task(
    name="notifications.tasks.notify_releases_delivered", ignore_result=True, **RECORD_TASK_OPTIONS
)
def notify_releases_delivered(transaction_ids: list[int]) -> int:
    """Every delivery one commit recorded (a dispatch batch's), in one task."""
    from notifications.events import release_delivered_notify

    return sum(release_delivered_notify(transaction_id=tid) for tid in transaction_ids)


@shared_task(name="notifications.tasks.deliver_notification", ignore_result=True)
def deliver_notification(notification_id: int) -> str:
    from notifications.services import notification_deliver

    delivery = notification_deliver(notification_id=notification_id)
    if delivery.retry_in is not None:
        deliver_notification.apply_async((notification_id,), countdown=delivery.retry_in)
    return delivery.state


def _deliver_soon(notification_id: int) -> None:
    deliver_notification.apply_async((notification_id,))


@shared_task(name="notifications.tasks.watch_endpoints_and_resend", ignore_result=True)
def watch_endpoints_and_resend() -> tuple[int, int, int]:
    from notifications.endpoint_outages import endpoint_outages_detect
    from notifications.services import notifications_resend_due

    alerted, recovered = endpoint_outages_detect()
    return alerted, recovered, notifications_resend_due(send=_deliver_soon)


@shared_task(name="notifications.tasks.reap_stuck_notifications", ignore_result=True)
def reap_stuck_notifications() -> int:
    from notifications.services import notifications_reap

    return notifications_reap()


@shared_task(name="notifications.tasks.send_teacher_digests", ignore_result=True)
def send_teacher_digests() -> int:
    from notifications.digest import teacher_digests_send

    return teacher_digests_send()


# --- the events other apps announce, connected in NotificationsConfig.ready ---------
# Each asks for a control task (a submission's end composes its notice at once), so
# the mail is composed and sent outside the transaction that recorded the event
# (signals are sent after it commits).
def _enqueue(task: Any, **kwargs: Any) -> None:
    try:
        task.apply_async(kwargs=kwargs, retry=False)
    except (BrokerUnreachable, OSError):  # the event is recorded, its mail is not sent
        logger.warning("notification task %s was not sent for %s", task.name, kwargs)


@receiver(submission_ended, dispatch_uid="notifications.tasks.submission_ended")
def _on_submission_ended(*, submission_id: int, attempt: int, **_: Any) -> None:
    # Composed here, after the commit that ended the submission, in the process
    # that recorded it (the control worker's record task): a task a submission
    # fewer. Only the mail's sending is a task of its own. Should this fail (the
    # database gone just now), the task does it, retried through an outage.
    from notifications.events import submission_ended_notify

    try:
        submission_ended_notify(submission_id=submission_id, attempt=attempt)
    except Exception:
        logger.warning("submission %s: its notice is left to a task", submission_id, exc_info=True)
        _enqueue(notify_submission_ended, submission_id=submission_id, attempt=attempt)


@receiver(release_delivered, dispatch_uid="notifications.tasks.release_delivered")
def _on_release_delivered(*, transaction_ids: list[int], **_: Any) -> None:
    _enqueue(notify_releases_delivered, transaction_ids=transaction_ids)


@receiver(notification_recorded, dispatch_uid="notifications.tasks.notification_recorded")
def _on_notification_recorded(*, notification_id: int, **_: Any) -> None:
    _enqueue(deliver_notification, notification_id=notification_id)
