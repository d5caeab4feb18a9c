from __future__ import annotations

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone

from challenges.datasets import CLASSIFICATION, REGRESSION
from challenges.drift import CLASS_PRIOR, NOISE, NONE, ORDERED, Drift
from worker_node.command import OWN_JUDGE_QUEUE
from worker_wing.network_policy import parse_networks

# A challenge's own judge queue is named as `ppipe-worker` knows a judge queue.
JUDGE_QUEUE_PATTERN = f"^{OWN_JUDGE_QUEUE.pattern}$"
SHARED_JUDGE_QUEUE = "judge"


def random_seed() -> int:
    return secrets.randbelow(2**31)


def validate_networks(value: str) -> None:
    try:
        parse_networks(value)
    except ValueError as error:
        raise ValidationError(str(error)) from None


def dataset_upload_to(instance: Challenge, filename: str) -> str:
    # Grouped by content digest: two uploads of the same file share a folder,
    # and the path alone tells which bytes a challenge was built from.
    return f"datasets/{instance.dataset_sha256}/{filename}"


class TaskType(models.TextChoices):
    CLASSIFICATION = CLASSIFICATION, "Classification"
    REGRESSION = REGRESSION, "Regression"


class ReleaseFormat(models.TextChoices):
    CSV = "csv", "CSV"
    PARQUET = "parquet", "Parquet"
    JSONL = "jsonl", "JSON lines"


class DriftKind(models.TextChoices):
    NONE = NONE, "no drift"
    ORDERED = ORDERED, "ordered by a column"
    CLASS_PRIOR = CLASS_PRIOR, "class-prior change"
    NOISE = NOISE, "added noise"


class Challenge(models.Model):
    # What decides how a submission is judged (with the dataset's bytes): each
    # run's provenance carries their digest (challenges.selectors).
    JUDGED_BY = (
        "target_column",
        "id_column",
        "task_type",
        "metric",
        "test_fraction",
        "private_fraction",
        "split_seed",
        "cpu_seconds_limit",
        "memory_mb_limit",
        "wall_seconds_limit",
        "cv_folds",
        "batch_size",
        "step_latency_sla_ms",
        "pipeline_latency_sla_ms",
    )
    # Fields a published challenge may no longer change: its data, its split and
    # how submissions are judged and measured.
    FROZEN_ON_PUBLISH = ("slug", "dataset", *JUDGED_BY, "drift", "drift_column", "drift_strength")

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

    cpu_seconds_limit = models.PositiveIntegerField(
        "CPU time limit (seconds)", default=600, validators=[MinValueValidator(1)]
    )
    memory_mb_limit = models.PositiveIntegerField(
        "memory limit (MB)", default=2048, validators=[MinValueValidator(64)]
    )
    wall_seconds_limit = models.PositiveIntegerField(
        "wall-clock limit (seconds)", default=900, validators=[MinValueValidator(1)]
    )
    submissions_per_day = models.PositiveIntegerField(
        default=5,
        validators=[MinValueValidator(1)],
        help_text="Per student (per team, for a team's members), over the last 24 hours; "
        "failed and cancelled ones do not count.",
    )
    cv_folds = models.PositiveIntegerField(
        "cross-validation folds",
        default=5,
        validators=[MinValueValidator(2), MaxValueValidator(20)],
        help_text="Submissions are trained and scored on this many folds of the training rows.",
    )
    # A queue of its own (workers the data owner runs on their own servers); empty:
    # the shared judge pool.
    judge_queue = models.CharField(
        "judge queue",
        max_length=60,
        blank=True,
        validators=[
            RegexValidator(
                JUDGE_QUEUE_PATTERN,
                "A judge queue is named judge- followed by lower-case letters, digits and "
                "hyphens, e.g. judge-hospital.",
            )
        ],
        help_text="Judge this challenge's submissions only on workers of this queue (e.g. "
        "judge-hospital, served by `ppipe-worker --queues judge-hospital` on the data "
        "owner's servers). Empty: the shared pool.",
    )
    # Where that queue's workers read their inputs: the data owner's store, to which
    # the control side copies each job's inputs (judging/owner_store.py).
    judge_store = models.ForeignKey(
        "dispatch.Destination",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="judged_challenges",
        help_text="With a judge queue of its own: the data owner's store (a destination "
        "their judge workers read as PPIPE_ARTIFACT_DIR). Each job's inputs (the training "
        "rows, the test features, the code) are copied there, and its workers need nothing "
        "of the platform's store. Empty: the platform's artifact store.",
    )
    team_size = models.PositiveIntegerField(
        "team size",
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(20)],
        help_text="Students may form teams of up to this many (1: everyone works alone). "
        "A team shares the daily submissions, the final picks and one leaderboard row.",
    )
    final_selections = models.PositiveIntegerField(
        "final submissions per student",
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(20)],
        help_text="How many scored submissions a student (a team, for its members) may select "
        "for the private leaderboard (their best selected one counts); none selected: their "
        "best public score.",
    )

    # Pipelines (worker_wing/pipeline/spec.py): inference is timed in batches of this
    # many rows, per step and end to end, against these SLAs (the 95th percentile
    # of a batch's latency must be within them).
    batch_size = models.PositiveIntegerField(
        "inference batch size",
        default=0,
        help_text="Rows per prediction batch when judging (0: all rows in one batch).",
    )
    step_latency_sla_ms = models.PositiveIntegerField(
        "per-step latency SLA (ms)",
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="Each step's 95th-percentile latency per batch must be within this "
        "(empty: none).",
    )
    pipeline_latency_sla_ms = models.PositiveIntegerField(
        "end-to-end latency SLA (ms)",
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="A whole batch's 95th-percentile latency must be within this (empty: none).",
    )
    max_sweep_configurations = models.PositiveIntegerField(
        "configurations per sweep",
        default=8,
        validators=[MinValueValidator(1), MaxValueValidator(64)],
        help_text="A sweep runs every combination of a pipeline's alternatives, up to this many; "
        "the limits per submission apply to each configuration.",
    )
    reproduce_tolerance = models.FloatField(
        default=1e-6,
        validators=[MinValueValidator(0.0)],
        help_text="A reproduced run matches when every score is within this of the original's.",
    )
    join_code = models.CharField(
        max_length=40,
        blank=True,
        help_text="Students who know this code may join by themselves (empty: only the roster).",
    )

    # Live endpoints: how often each is probed and with how many hidden test rows,
    # the latency a probe must beat, and the networks beyond the public internet
    # that probes may reach (the SSRF policy, worker_wing/network_policy.py).
    probe_interval_seconds = models.PositiveIntegerField(
        default=60,
        validators=[MinValueValidator(5)],
        help_text="Each registered endpoint is probed this often, at a random phase of its own.",
    )
    probe_rows = models.PositiveIntegerField(
        "rows per probe",
        default=32,
        validators=[MinValueValidator(1), MaxValueValidator(1000)],
        help_text="Hidden test rows (features only) sent in each probe.",
    )
    latency_sla_ms = models.PositiveIntegerField(
        "latency SLA (ms)",
        default=500,
        validators=[MinValueValidator(1)],
        help_text="A probe meets the SLA when it gets valid predictions within this time.",
    )
    probe_allowed_networks = models.CharField(
        max_length=500,
        blank=True,
        validators=[validate_networks],
        help_text="CIDR ranges probes may reach besides public addresses, e.g. a class "
        "network 10.20.0.0/16. Empty: public addresses only.",
    )

    # Proof of receipt: questions about each release a student received (a cell,
    # the row count, a column's sum), to answer over the API before a deadline.
    receipt_questions = models.PositiveIntegerField(
        "questions per release",
        default=0,
        validators=[MaxValueValidator(20)],
        help_text="Questions posed to each student about each release they receive (0: none).",
    )
    receipt_deadline_hours = models.PositiveIntegerField(
        "hours to answer",
        default=24,
        validators=[MinValueValidator(1)],
        help_text="Time a student has to answer, from when the question is posed.",
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

    # The release plan: how the training rows reach students over time. It may
    # change after publishing; "re-plan" rebuilds the releases not yet started.
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
    destinations = models.ManyToManyField(
        "dispatch.Destination", blank=True, related_name="challenges"
    )
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
    def probe_networks(self) -> list[str]:
        return [str(network) for network in parse_networks(self.probe_allowed_networks)]

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
