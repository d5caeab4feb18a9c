"""From a recorded event to the mails that tell of it: a submission's result to
its author, a release to each student who receives it (one mail per release,
however many destinations it went to)."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from challenges.models import Participant
from dispatch.models import Transaction, TransactionState
from judging.models import Submission, SubmissionState
from notifications import mail
from notifications.models import NotificationKind
from notifications.services import notification_record


def submission_ended_notify(*, submission_id: int, attempt: int) -> bool:
    """Tell the author of a scored or failed submission; False when there is
    nothing (more) to tell: it was judged again or cancelled since, or was told."""
    submission = (
        Submission.objects.select_related("challenge", "participant__user")
        .filter(id=submission_id, state__in=(SubmissionState.SCORED, SubmissionState.FAILED))
        .first()
    )
    if submission is None or submission.finished_at is None:
        return False
    scored = submission.state == SubmissionState.SCORED
    kind = NotificationKind.SUBMISSION_SCORED if scored else NotificationKind.SUBMISSION_FAILED
    # A judged-again submission starts its attempts afresh: the end time tells two
    # ends of the same attempt number apart.
    ended = f"{submission.finished_at.timestamp():.6f}"
    user = submission.participant.user
    with transaction.atomic():
        recorded = notification_record(
            key=f"submission-ended:{submission.pk}:{attempt}:{ended}",
            kind=kind,
            user_id=user.pk,
            email=user.email,
            challenge_id=submission.challenge_id,
            compose=lambda: (mail.submission_scored if scored else mail.submission_failed)(
                submission
            ),
        )
    return recorded is not None


def _receivers(delivered: Transaction) -> list[User]:
    if delivered.participant_id is not None:
        return [delivered.participant.user]  # type: ignore[union-attr]  # set with the id
    participants = Participant.objects.filter(challenge_id=delivered.release.challenge_id)
    return [row.user for row in participants.select_related("user").order_by("id")]


def release_delivered_notify(*, transaction_id: int) -> int:
    """Tell each student who receives this delivered release (their own folder's,
    or everyone's for a shared destination), once per release; how many were told."""
    delivered = (
        Transaction.objects.select_related("release__challenge", "destination", "participant__user")
        .filter(id=transaction_id, state=TransactionState.DONE)
        .first()
    )
    if delivered is None:
        return 0
    release = delivered.release
    told = 0
    for user in _receivers(delivered):
        with transaction.atomic():
            recorded = notification_record(
                key=f"release-arrived:{release.pk}:{user.pk}",
                kind=NotificationKind.RELEASE_ARRIVED,
                user_id=user.pk,
                email=user.email,
                challenge_id=release.challenge_id,
                compose=lambda: mail.release_arrived(delivered),
            )
        told += recorded is not None
    return told
