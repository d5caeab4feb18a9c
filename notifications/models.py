"""What people are told by email, and what they chose to be told.

Every mail is first a `Notification` row whose `key` names the event it tells
of (`submission-ended:42:1:…`): a trigger delivered twice finds the row and
sends nothing more. The row then goes `pending → sending → sent`, back to
`pending` with a later `next_attempt_at` on a transient failure (bounded), or
ends `failed` with the reason; `skipped` records an event its recipient switched
off (or a recipient with no address), so the log says why no mail went.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models

from foundation.leases import LeasedJob


class NotificationKind(models.TextChoices):
    SUBMISSION_SCORED = "submission_scored", "submission scored"
    SUBMISSION_FAILED = "submission_failed", "submission failed"
    RELEASE_ARRIVED = "release_arrived", "release arrived"
    ENDPOINT_DOWN = "endpoint_down", "endpoint down"
    ENDPOINT_UP = "endpoint_up", "endpoint back up"
    TEACHER_DIGEST = "teacher_digest", "teacher's daily digest"


class NotificationState(models.TextChoices):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    SKIPPED = "skipped"


class NotificationPreferences(models.Model):
    """A person's switches, one per kind of mail; a missing row means all on."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notification_preferences"
    )
    submission_results = models.BooleanField(
        default=True, help_text="When a submission of yours is scored or fails."
    )
    releases = models.BooleanField(default=True, help_text="When a release of data reaches you.")
    endpoint_outages = models.BooleanField(
        default=True,
        help_text="When your endpoint has been down longer than the challenge allows, "
        "and when it is back.",
    )
    teacher_digest = models.BooleanField(
        default=True,
        help_text="Teachers: a daily digest of failures and stuck work in your challenges.",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "notification preferences"

    def __str__(self) -> str:
        return f"notification preferences of {self.user}"


class ChallengeNotificationSettings(models.Model):
    """A challenge's notification settings, kept here so the challenge's own table
    does not change; a missing row means the defaults."""

    challenge = models.OneToOneField(
        "challenges.Challenge", on_delete=models.CASCADE, related_name="notification_settings"
    )
    endpoint_down_minutes = models.PositiveIntegerField(
        "endpoint down alert after (minutes)",
        default=15,
        validators=[MaxValueValidator(7 * 24 * 60)],
        help_text="A student is told when every probe of their endpoint has failed for this "
        "long (0: never).",
    )
    endpoint_back_notice = models.BooleanField(
        "tell when an endpoint is back",
        default=True,
        help_text="After an alert, tell the student when a probe succeeds again.",
    )

    class Meta:
        verbose_name = "challenge notification settings"
        verbose_name_plural = "challenge notification settings"

    def __str__(self) -> str:
        return f"notification settings of {self.challenge}"


class Notification(LeasedJob):
    key = models.CharField(max_length=200, unique=True)
    kind = models.CharField(max_length=20, choices=NotificationKind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    # The challenge the event belongs to (none for a teacher's digest).
    challenge = models.ForeignKey(
        "challenges.Challenge",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="notifications",
    )
    to_email = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=200)
    body = models.TextField()
    state = models.CharField(
        max_length=10, choices=NotificationState.choices, default=NotificationState.PENDING
    )
    max_attempts = models.PositiveIntegerField(default=5)
    next_attempt_at = models.DateTimeField()
    # Why it was skipped, or the last failure (never a credential).
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["state", "next_attempt_at"], name="notification_due")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} to {self.user} ({self.state})"


class EndpointOutage(models.Model):
    """A run of failed probes long enough to alert on: one alert per outage, and
    one notice when it ends."""

    endpoint = models.ForeignKey(
        "probing.Endpoint", on_delete=models.CASCADE, related_name="outages"
    )
    # The first failed probe of the run names the outage.
    first_failed_probe_id = models.BigIntegerField()
    started_at = models.DateTimeField()
    alerted_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "first_failed_probe_id"], name="outage_unique_per_first_probe"
            )
        ]

    def __str__(self) -> str:
        return f"outage of endpoint {self.endpoint_id} since {self.started_at:%Y-%m-%d %H:%M}"
