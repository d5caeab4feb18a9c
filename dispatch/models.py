from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

from foundation.leases import LeasedJob
from foundation.secrets_at_rest import EncryptedJSONField
from worker_wing.release.remotes import BACKEND_TYPES

NAME_VALIDATOR = RegexValidator(
    r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,59}$",
    "Use letters, digits and _ . - (at most 60, starting with a letter or digit).",
)


class Destination(models.Model):
    """An rclone remote a teacher releases data to. Secrets are write-only."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="destinations"
    )
    name = models.CharField(max_length=60, validators=[NAME_VALIDATOR])
    type = models.CharField(max_length=20, choices=[(t, t) for t in BACKEND_TYPES])
    path = models.CharField(
        max_length=500,
        blank=True,
        help_text="Base path on the remote: a folder, or bucket/prefix for S3. "
        "Releases land below it.",
    )
    options = models.JSONField(
        default=dict, blank=True, help_text="rclone options that are not secret."
    )
    # Never rendered: the admin and the API only say which secret options are set.
    # Encrypted at rest, with a key kept outside the database.
    secret_options = EncryptedJSONField(default=dict, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["owner", "name"], name="destination_name_unique_per_owner"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.type})"


class Release(models.Model):
    """One step of a challenge's release schedule: which training rows, when."""

    challenge = models.ForeignKey(
        "challenges.Challenge", on_delete=models.CASCADE, related_name="releases"
    )
    sequence = models.PositiveIntegerField()
    due_at = models.DateTimeField()
    row_start = models.PositiveIntegerField()
    row_stop = models.PositiveIntegerField()
    # The destinations this release goes to (a random subset when so planned):
    # kept so a student who joins later receives the same releases.
    destination_ids = models.JSONField(default=list)

    class Meta:
        ordering = ["challenge", "sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["challenge", "sequence"], name="release_sequence_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.challenge.slug} release {self.sequence}"

    @property
    def rows(self) -> int:
        return self.row_stop - self.row_start


class TransactionState(models.TextChoices):
    PLANNED = "planned"
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"


ACTIVE_STATES = (TransactionState.QUEUED, TransactionState.RUNNING)
TERMINAL_STATES = (TransactionState.DONE, TransactionState.FAILED, TransactionState.CANCELLED)


class Transaction(LeasedJob):
    """Delivering one release to one destination: an atomic, re-runnable job."""

    release = models.ForeignKey(Release, on_delete=models.CASCADE, related_name="transactions")
    destination = models.ForeignKey(
        Destination, on_delete=models.PROTECT, related_name="transactions"
    )
    # Set when the challenge releases a folder per student.
    participant = models.ForeignKey(
        "challenges.Participant",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="transactions",
    )
    state = models.CharField(
        max_length=12, choices=TransactionState.choices, default=TransactionState.PLANNED
    )
    max_attempts = models.PositiveIntegerField(default=5)
    # When a planned transaction is next due: the release time, or a retry's time.
    next_attempt_at = models.DateTimeField()
    # The job without secret values (those are added when it is sent).
    job = models.JSONField()
    remote_path = models.CharField(max_length=1000)

    bytes = models.PositiveBigIntegerField(null=True, blank=True)
    md5 = models.CharField(max_length=32, blank=True)
    sha256 = models.CharField(max_length=64, blank=True)
    verified = models.CharField(max_length=20, blank=True)
    duration_seconds = models.FloatField(null=True, blank=True)
    worker = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)
    task_id = models.CharField(max_length=64, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["release__due_at", "id"]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"]),
            models.Index(fields=["state", "lease_expires_at"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["release", "destination"],
                condition=models.Q(participant__isnull=True),
                name="transaction_unique_per_destination",
            ),
            models.UniqueConstraint(
                fields=["release", "destination", "participant"],
                condition=models.Q(participant__isnull=False),
                name="transaction_unique_per_participant",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.release} → {self.destination.name}"


class TransactionEvent(models.Model):
    """The timeline of a transaction: every state change with its reason."""

    transaction = models.ForeignKey(Transaction, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(auto_now_add=True)
    state = models.CharField(max_length=12, choices=TransactionState.choices)
    attempt = models.PositiveIntegerField()
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.state}: {self.message}"
