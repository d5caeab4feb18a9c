from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models

from foundation.failure_kinds import failure_kind_field
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


class ReleaseFormat(models.TextChoices):
    CSV = "csv", "CSV"
    PARQUET = "parquet", "Parquet"
    JSONL = "jsonl", "JSON lines"


class ReleasePlan(models.Model):
    """How a challenge's training rows reach students over time: a challenge's
    release settings. They may change after publishing; "re-plan" rebuilds the
    releases not yet started."""

    challenge = models.OneToOneField(
        "challenges.Challenge",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="release_plan",
    )
    first_release_at = models.DateTimeField(null=True, blank=True)
    release_proportions = models.CharField(
        max_length=500,
        blank=True,
        default="1",
        help_text="Shares of the training rows per release, e.g. 40,20,20,20; "
        "or a number of equal parts, e.g. 4.",
    )
    release_rows = models.PositiveIntegerField(
        "rows per release",
        null=True,
        blank=True,
        help_text="Instead of proportions: this many rows per release (the last may be smaller).",
    )
    release_interval_seconds = models.PositiveIntegerField(
        default=86400, validators=[MinValueValidator(1)], help_text="Time between two releases."
    )
    release_cumulative = models.BooleanField(
        default=False,
        help_text="Each file holds every row released so far (else only the new rows).",
    )
    release_format = models.CharField(
        max_length=10, choices=ReleaseFormat.choices, default=ReleaseFormat.CSV
    )
    destinations = models.ManyToManyField(Destination, blank=True, related_name="release_plans")
    release_per_participant = models.BooleanField(
        "a folder per student",
        default=False,
        help_text="Each participant gets their own folder (or bucket prefix) named by username.",
    )
    destinations_per_release = models.PositiveIntegerField(
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="Release each time to a random subset of this many destinations (empty: all).",
    )
    release_downloads = models.BooleanField(
        "students may download their releases",
        default=False,
        help_text="Each student can also download, from the challenge page and in the starting "
        "kit, the releases delivered to them (never test rows).",
    )

    class Meta:
        verbose_name = "release plan"

    def __str__(self) -> str:
        return f"release plan of {self.challenge}"

    @property
    def releases(self) -> models.QuerySet[Release]:
        """The challenge's releases as planned, in order (for its API description)."""
        return Release.objects.filter(challenge_id=self.pk).order_by("sequence")


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
    # The error in a word, from a fixed vocabulary: what metrics and operators count.
    failure_kind = failure_kind_field()
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
