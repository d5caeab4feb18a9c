from __future__ import annotations

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from challenges.datasets import CLASSIFICATION, REGRESSION
from challenges.drift import CLASS_PRIOR, NOISE, NONE, ORDERED, Drift
from challenges.release_order import FILE, SHUFFLED
from worker_wing.network_policy import parse_networks


def random_seed() -> int:
    return secrets.randbelow(2**31)


# Named by migration 0004 (the field moved to probing.ProbeRules).
def validate_networks(value: str) -> None:
    try:
        parse_networks(value)
    except ValueError as error:
        raise ValidationError(str(error)) from None


def dataset_upload_to(instance: Challenge, filename: str) -> str:
    # Grouped by content digest: two uploads of the same file share a folder,
    # and the path alone tells which bytes a challenge was built from.
    return f"datasets/{instance.dataset_sha256}/{filename}"


JOIN_CODE_TAKEN = (
    "Another challenge already has this join code (codes are compared without case): "
    "choose another."
)


class TaskType(models.TextChoices):
    CLASSIFICATION = CLASSIFICATION, "Classification"
    REGRESSION = REGRESSION, "Regression"


class DriftKind(models.TextChoices):
    NONE = NONE, "no drift"
    ORDERED = ORDERED, "ordered by a column"
    CLASS_PRIOR = CLASS_PRIOR, "class-prior change"
    NOISE = NOISE, "added noise"


class ReleaseOrder(models.TextChoices):
    SHUFFLED = SHUFFLED, "shuffled, the classes mixed in every release"
    FILE = FILE, "the file's order"


class Challenge(models.Model):
    """A challenge's core: its data, its split, its dates and who takes part. What the
    apps built on it add (releases, judging, probes, receipts) is in their own
    one-to-one settings (challenges/sections.py)."""

    # What decides how a submission is judged, with the dataset's bytes and the
    # judging sections' `judged_by`: each run's provenance carries their digest
    # (challenges.selectors).
    JUDGED_BY = (
        "target_column",
        "id_column",
        "task_type",
        "metric",
        "test_fraction",
        "private_fraction",
        "split_seed",
    )
    # Fields a published challenge may no longer change: its data and its split.
    # Each section freezes its own (SectionInline.frozen_on_publish).
    FROZEN_ON_PUBLISH = (
        "slug",
        "dataset",
        *JUDGED_BY,
        "release_order",
        "drift",
        "drift_column",
        "drift_strength",
    )

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="owned_challenges"
    )
    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=60, unique=True, help_text="Used in URLs and release paths.")
    description = models.TextField(blank=True)

    dataset = models.FileField(
        upload_to=dataset_upload_to,
        max_length=255,
        help_text="CSV (UTF-8, header row) or Parquet, one row per example.",
    )
    dataset_format = models.CharField(max_length=10, editable=False)
    dataset_sha256 = models.CharField(max_length=64, editable=False)
    dataset_rows = models.PositiveIntegerField(default=0, editable=False)
    target_column = models.CharField(max_length=200)
    id_column = models.CharField(
        max_length=200, blank=True, help_text="Optional: a column that identifies each row."
    )
    task_type = models.CharField(max_length=20, choices=TaskType.choices)
    metric = models.CharField(max_length=60, help_text="A scikit-learn scorer name.")

    test_fraction = models.FloatField(
        default=0.3,
        validators=[MinValueValidator(0.05), MaxValueValidator(0.8)],
        help_text="Share of the rows held back as the hidden test set.",
    )
    private_fraction = models.FloatField(
        default=0.5,
        validators=[MinValueValidator(0.0), MaxValueValidator(0.9)],
        help_text="Share of the hidden test set scored only after the close (private leaderboard).",
    )
    split_seed = models.PositiveIntegerField(
        default=random_seed, help_text="Seed of the train/test split: same seed, same split."
    )

    opens_at = models.DateTimeField()
    closes_at = models.DateTimeField()

    team_size = models.PositiveIntegerField(
        "team size",
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(20)],
        help_text="Students may form teams of up to this many (1: everyone works alone). "
        "A team shares the daily submissions, the final picks and one leaderboard row.",
    )
    join_code = models.CharField(
        max_length=40,
        blank=True,
        help_text="Students who know this code may join by themselves (empty: only the roster). "
        "Unique across challenges and compared without case.",
    )

    # Not judged by: the judge folds the training rows at random whatever their order
    # (and the order is in the training data's digest, part of each run's provenance).
    release_order = models.CharField(
        max_length=10,
        choices=ReleaseOrder.choices,
        default=ReleaseOrder.SHUFFLED,
        help_text="The order the training rows are released in. Shuffled (seeded by the split "
        "seed): every release holds each class in its share, within a row or two. The file's "
        "order: for chronological data, where what comes first must be released first. "
        "With drift, the drift decides the order.",
    )

    # Drift (challenges/drift.py): later releases, and the probes sent while they
    # are the newest, come from a shifted distribution.
    drift = models.CharField(
        max_length=12,
        choices=DriftKind.choices,
        default=DriftKind.NONE,
        help_text="Whether later releases (and the probes sent meanwhile) come from a shifted "
        "distribution, so endpoints that retrain on new data score better.",
    )
    drift_column = models.CharField(
        max_length=200, blank=True, help_text="For 'ordered by a column': the column to order by."
    )
    drift_strength = models.FloatField(
        default=0.5,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="0 to 1. Class-prior change: how strictly the classes come in turn; added "
        "noise: standard deviations of noise in the last release.",
    )

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    published_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(closes_at__gt=models.F("opens_at")),
                name="challenge_closes_after_it_opens",
            ),
            # A student signs up with the code alone, typed in any case: it must name
            # one challenge (migration 0014 gave later duplicates fresh codes).
            models.UniqueConstraint(
                Lower("join_code"),
                condition=~models.Q(join_code=""),
                name="challenge_join_code_unique_without_case",
                violation_error_message=JOIN_CODE_TAKEN,
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def drift_settings(self) -> Drift:
        return Drift(
            kind=self.drift,
            column=self.drift_column,
            strength=self.drift_strength,
            seed=self.split_seed,
        )

    @property
    def is_published(self) -> bool:
        return self.published_at is not None

    @property
    def status(self) -> str:
        if not self.is_published:
            return "draft"
        now = timezone.now()
        if now < self.opens_at:
            return "published"
        return "open" if now < self.closes_at else "closed"


class ChallengeSplit(models.Model):
    """What publishing produced: the frozen split and where its parts are stored."""

    challenge = models.OneToOneField(Challenge, on_delete=models.CASCADE, related_name="split")
    # In the artifact store: what judge workers may read.
    train_sha256 = models.CharField(max_length=64)
    test_features_sha256 = models.CharField(max_length=64)
    # In the private store: read by the control side only.
    labels_sha256 = models.CharField(max_length=64)
    train_rows = models.PositiveIntegerField()
    public_test_rows = models.PositiveIntegerField()
    private_test_rows = models.PositiveIntegerField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return (
            f"{self.train_rows} train / {self.public_test_rows} public test / "
            f"{self.private_test_rows} private test"
        )


class Participant(models.Model):
    """A student taking part in a challenge, alone or in one of its teams."""

    challenge = models.ForeignKey(Challenge, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="participations"
    )
    joined_at = models.DateTimeField(auto_now_add=True)
    # At most one team of its challenge (teams/services.py keeps them in step).
    team = models.ForeignKey(
        "teams.Team", on_delete=models.SET_NULL, null=True, blank=True, related_name="members"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["challenge", "user"], name="participant_unique_per_challenge"
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.challenge.slug}"
