"""Thin tasks on the control queue: turning an event into mails, sending one,
and beat's ticks (outages and overdue sends; the teachers' digest).

Turning an event into mails is idempotent by the event's key, so those tasks are
acknowledged late and retried through a database outage like the record tasks.
"""

from __future__ import annotations

from celery import shared_task

from foundation.celery import RECORD_TASK_OPTIONS


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
    from notifications.events import release_delivered_notify

    return release_delivered_notify(transaction_id=transaction_id)


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


@shared_task(name="notifications.tasks.send_teacher_digests", ignore_result=True)
def send_teacher_digests() -> int:
    from notifications.digest import teacher_digests_send

    return teacher_digests_send()
