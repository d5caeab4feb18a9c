"""Reads: a person's switches, a challenge's settings, the log a user may see."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q, QuerySet

from notifications.models import (
    ChallengeNotificationSettings,
    Notification,
    NotificationKind,
    NotificationPreferences,
)

# Which switch turns each kind of mail off.
SWITCH_OF_KIND = {
    NotificationKind.SUBMISSION_SCORED: "submission_results",
    NotificationKind.SUBMISSION_FAILED: "submission_results",
    NotificationKind.RELEASE_ARRIVED: "releases",
    NotificationKind.ENDPOINT_DOWN: "endpoint_outages",
    NotificationKind.ENDPOINT_UP: "endpoint_outages",
    NotificationKind.TEACHER_DIGEST: "teacher_digest",
}


def preferences_of(user_id: int) -> NotificationPreferences:
    """The user's switches; an unsaved all-on row when they never changed them."""
    found = NotificationPreferences.objects.filter(user_id=user_id).first()
    return found or NotificationPreferences(user_id=user_id)


def wants(preferences: NotificationPreferences, kind: str) -> bool:
    return bool(getattr(preferences, SWITCH_OF_KIND[NotificationKind(kind)]))


def challenge_settings_of(challenge_id: int) -> ChallengeNotificationSettings:
    """The challenge's settings; an unsaved row of defaults when the teacher kept them."""
    found = ChallengeNotificationSettings.objects.filter(challenge_id=challenge_id).first()
    return found or ChallengeNotificationSettings(challenge_id=challenge_id)


def notifications_visible_to(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Notification]:
    """The log as the admin shows it: a teacher sees their challenges' mails and
    their own; a superuser sees all."""
    rows = Notification.objects.select_related("user", "challenge")
    if getattr(user, "is_superuser", False):
        return rows
    if not user.is_authenticated:
        return rows.none()
    return rows.filter(Q(challenge__owner_id=user.pk) | Q(user_id=user.pk))
