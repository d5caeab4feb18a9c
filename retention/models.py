"""How long a challenge's judged runs keep their artifacts, and what the collector did.

A run's artifacts (predictions, out-of-fold predictions, logs, the pickled model,
the manifest: worker_wing/judge/run_artifacts.py) are files of the content store
named by their sha256, which `Submission.artifacts` refers to. Collecting a run
means its row stops referring to them (a `CollectedRun` keeps what it referred to
and why it went); a file itself is deleted only when no row of any challenge
refers to it any more (retention/sweep.py).
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models


class RetentionRules(models.Model):
    """A challenge's retention policy. Never collected, whatever it says: the runs
    still waiting or running, the selected and the promoted ones, each student's
    best, the runs a reproduction refers to, and those the contributivity blend
    reads (retention/policy.py)."""

    challenge = models.OneToOneField(
        "challenges.Challenge",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="retention_rules",
    )
    keep_days = models.PositiveIntegerField(
        "keep other runs' artifacts (days)",
        null=True,
        blank=True,
        help_text="The artifacts (predictions, logs, model) of a run that is none of the "
        "kept ones are removed this many days after it ended; its scores, code and "
        "timeline stay. Empty: the platform's default; 0: keep them for good.",
    )
    low_score_below = models.FloatField(
        "low score threshold",
        null=True,
        blank=True,
        help_text="Runs whose public score is below this (higher is better), and runs "
        "with no score (failed, cancelled), go sooner: after the days below.",
    )
    low_score_days = models.PositiveIntegerField(
        "keep low-scoring runs (days)",
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
    )
    sla_missed_days = models.PositiveIntegerField(
        "keep runs that missed a latency SLA (days)",
        null=True,
        blank=True,
        validators=[MinValueValidator(1)],
        help_text="Pipeline runs with a configuration over the challenge's latency SLA go "
        "after this many days (empty: like the others).",
    )

    class Meta:
        verbose_name = "retention rules"
        verbose_name_plural = "retention rules"

    def __str__(self) -> str:
        return f"retention rules of {self.challenge}"

    @property
    def kept_days(self) -> int:
        """The days that apply: the challenge's, or the platform's default."""
        return settings.PPIPE_RETENTION_DAYS if self.keep_days is None else self.keep_days


class CollectedRun(models.Model):
    """A run whose artifacts the retention policy removed: when, why, and what its
    row referred to (the digests, for an audit; the files may be gone)."""

    submission = models.OneToOneField(
        "judging.Submission",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="artifacts_collection",
    )
    collected_at = models.DateTimeField()
    reason = models.CharField(max_length=200)
    artifacts = models.JSONField(default=dict)

    def __str__(self) -> str:
        return f"artifacts of submission {self.submission_id} collected"


class StoreUsage(models.Model):
    """What the artifact store holds for a challenge, as the last collector pass
    measured it: the files any of its rows refers to (a file shared with another
    challenge counts in both)."""

    challenge = models.OneToOneField(
        "challenges.Challenge",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="store_usage",
    )
    blobs = models.PositiveIntegerField(default=0)
    bytes = models.PositiveBigIntegerField(default=0)
    measured_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"store usage of challenge {self.challenge_id}"


class CollectionPass(models.Model):
    """One pass of the collector (the periodic task or the command): what it
    removed, and the whole store as it found it."""

    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)
    runs_collected = models.PositiveIntegerField(default=0)
    blobs_deleted = models.PositiveIntegerField(default=0)
    bytes_freed = models.PositiveBigIntegerField(default=0)
    store_blobs = models.PositiveIntegerField(default=0)
    store_bytes = models.PositiveBigIntegerField(default=0)
    # Files no row refers to that were still within the grace period, or over the
    # pass's bound: the next pass takes them.
    blobs_left = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"collection pass of {self.started_at:%Y-%m-%d %H:%M}"
