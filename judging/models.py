from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models

from foundation.failure_kinds import failure_kind_field
from foundation.leases import LeasedJob
from judging import run_wording
from worker_node.command import OWN_JUDGE_QUEUE
from worker_wing.pipeline.plan import MAX_SWEEP_BATCH_SIZE, MAX_SWEEP_CORES

# A challenge's own judge queue is named as `ppipe-worker` knows a judge queue.
JUDGE_QUEUE_PATTERN = f"^{OWN_JUDGE_QUEUE.pattern}$"
SHARED_JUDGE_QUEUE = "judge"


# How many values a resource sweep may offer per resource (the sweep's cap bounds
# their product anyway).
MAX_SWEEP_VALUES = 8


def _sweep_values(value: object, *, what: str, most: int) -> None:
    # Not code "invalid": the field would put its own "Value must be valid JSON" instead.
    if not isinstance(value, list) or len(value) > MAX_SWEEP_VALUES:
        raise ValidationError(
            f"Give at most {MAX_SWEEP_VALUES} {what}, as a list such as 1, 2, 4.",
            code="sweep_values",
        )
    bad = [
        repr(item)
        for item in value
        if isinstance(item, bool) or not isinstance(item, int) or not 1 <= item <= most
    ]
    if bad:
        raise ValidationError(
            f"Each of the {what} must be a whole number from 1 to {most}; {', '.join(bad)} is not.",
            code="sweep_values",
        )
    if len(set(value)) != len(value):
        raise ValidationError(f"The {what} are listed more than once.", code="sweep_values")


def validate_sweep_cores(value: object) -> None:
    _sweep_values(value, what="core counts", most=MAX_SWEEP_CORES)


def validate_sweep_batch_sizes(value: object) -> None:
    _sweep_values(value, what="batch sizes", most=MAX_SWEEP_BATCH_SIZE)


class JudgingRules(models.Model):
    """How a challenge's submissions are judged: the limits per submission, the
    folds, the final picks, the judge pool, and how pipelines are timed."""

    challenge = models.OneToOneField(
        "challenges.Challenge",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="judging_rules",
    )
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
    final_selections = models.PositiveIntegerField(
        "final submissions per student",
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(20)],
        help_text="How many scored submissions a student (a team, for its members) may select "
        "for the private leaderboard (their best selected one counts); none selected: their "
        "best public score.",
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
    # A resource sweep (worker_wing/pipeline/plan.py's resource_sweep_plans): a sweep's
    # configurations run on each of these core counts and batch sizes.
    sweep_cores = models.JSONField(
        "sweep core counts",
        default=list,
        blank=True,
        validators=[validate_sweep_cores],
        help_text="CPU cores a sweep may run each configuration on, e.g. 1, 2, 4 (at most "
        "what a judge worker has: a worker does not run, and says why, the counts it "
        "lacks). Empty: no sweep over cores.",
    )
    sweep_batch_sizes = models.JSONField(
        "sweep batch sizes",
        default=list,
        blank=True,
        validators=[validate_sweep_batch_sizes],
        help_text="Inference batch sizes a sweep may time each configuration at, e.g. 1, 32, "
        "256. Empty: no sweep over batch sizes (the inference batch size above).",
    )
    reproduce_tolerance = models.FloatField(
        default=1e-6,
        validators=[MinValueValidator(0.0)],
        help_text="A reproduced run matches when every score is within this of the original's.",
    )
    # RAMP's collaborative phase (judging/sharing.py): from this time every scored
    # submission's code, scores and costs are open to the challenge's participants,
    # who may build on them (a fork records its parent). Never before.
    code_sharing_at = models.DateTimeField(
        "code sharing date",
        null=True,
        blank=True,
        help_text="From this time every scored submission's code, scores and costs are "
        "visible to every participant, who may build on them (private scores still only "
        "after the close). Before the close: a collaborative phase; after it: a reveal. "
        "Empty: code is never shared.",
    )

    class Meta:
        verbose_name = "judging rules"
        verbose_name_plural = "judging rules"

    def __str__(self) -> str:
        return f"judging rules of {self.challenge}"


class SubmissionState(models.TextChoices):
    NEW = "new"
    QUEUED = "queued"
    RUNNING = "running"
    SCORED = "scored"
    FAILED = "failed"
    CANCELLED = "cancelled"


# States a submission can still leave on its own; the reaper watches the last two.
WAITING_STATES = (SubmissionState.NEW, SubmissionState.QUEUED, SubmissionState.RUNNING)
IN_FLIGHT_STATES = (SubmissionState.QUEUED, SubmissionState.RUNNING)
ENDED_STATES = (SubmissionState.SCORED, SubmissionState.FAILED, SubmissionState.CANCELLED)
# What counts against the daily limit: everything but what failed or was cancelled.
COUNTED_STATES = (*WAITING_STATES, SubmissionState.SCORED)


class SubmissionKind(models.TextChoices):
    ESTIMATOR = "estimator", "estimator.py"
    PIPELINE = "pipeline", "pipeline (zip)"


class Submission(LeasedJob):
    """A student's `estimator.py` or pipeline zip, judged on the challenge's folds
    and hidden test set.

    The code itself lives in the artifact store under `code_sha256` (judge workers
    read it from there); the row holds its state, the reason of a failure and the
    measurements of the judging run.
    """

    challenge = models.ForeignKey(
        "challenges.Challenge", on_delete=models.CASCADE, related_name="submissions"
    )
    participant = models.ForeignKey(
        "challenges.Participant", on_delete=models.CASCADE, related_name="submissions"
    )
    filename = models.CharField(max_length=200, default="estimator.py")
    code_sha256 = models.CharField(max_length=64)
    code_bytes = models.PositiveIntegerField()
    kind = models.CharField(
        max_length=12, choices=SubmissionKind.choices, default=SubmissionKind.ESTIMATOR
    )
    # The checked pipeline (steps, their wiring and alternatives) as the upload
    # check read it, and the run plans the judge executes: one, or with `sweep`
    # one per configuration (worker_wing/pipeline/plan.py).
    pipeline = models.JSONField(default=dict, blank=True)
    plans = models.JSONField(default=list, blank=True)
    sweep = models.BooleanField(default=False)
    # A resource sweep's configurations the judge worker did not run, each with its
    # cores, batch size and reason (worker_wing/judge/resource_sweep.py).
    sweep_not_run = models.JSONField(default=list, blank=True)
    state = models.CharField(
        max_length=20, choices=SubmissionState.choices, default=SubmissionState.NEW, db_index=True
    )
    # Shown to the student: why it failed or was cancelled, in words they can act on.
    reason = models.TextField(blank=True)
    # The reason in a word, from a fixed vocabulary: what metrics and operators count.
    failure_kind = failure_kind_field()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    # Delivery (foundation/leases.py): each attempt is one judge run; a vanished
    # worker costs an attempt.
    task_id = models.CharField(max_length=100, blank=True)
    worker = models.CharField(max_length=200, blank=True)
    job = models.JSONField(default=dict, blank=True)

    # Results. Scores follow scikit-learn's convention: higher is better.
    public_score = models.FloatField(null=True, blank=True)
    private_score = models.FloatField(null=True, blank=True)
    cv_mean = models.FloatField(null=True, blank=True)
    cv_std = models.FloatField(null=True, blank=True)
    cpu_seconds = models.FloatField(null=True, blank=True)
    peak_memory_mb = models.FloatField(null=True, blank=True)
    fit_seconds = models.FloatField(null=True, blank=True)
    wall_seconds = models.FloatField(null=True, blank=True)
    stdout_tail = models.TextField(blank=True)
    stderr_tail = models.TextField(blank=True)
    provenance = models.JSONField(default=dict, blank=True)
    # What the run left in the artifact store: name -> sha256 (predictions, logs, model).
    artifacts = models.JSONField(default=dict, blank=True)
    # The student's picks for the final (private) ranking (up to the challenge's
    # final_selections), and the teacher's promotions, which count as picks beyond
    # that number; the best public score if neither.
    selected = models.BooleanField(default=False)
    promoted = models.BooleanField(default=False)
    # Its share, in percent, of the challenge's greedy ensemble on the validation
    # folds (RAMP's contributivity, judging/blending.py; the challenge's sum to
    # 100), and when it was computed; None when it was not among those blended.
    contributivity = models.FloatField(null=True, blank=True)
    contributivity_at = models.DateTimeField(null=True, blank=True)
    # The shared submission this one was built from (POST .../fork/, after the
    # challenge's code sharing date): its lineage, and who is credited when it
    # improves the ensemble. Kept when the parent is deleted, without it.
    parent = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="forks",
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["challenge", "state"], name="submission_challenge_state"),
            models.Index(fields=["participant", "created_at"], name="submission_participant_day"),
            # The feeder's turns (judging/judge_queues.py): the waiting submissions
            # read in (participant, age) order, only those, without a sort.
            models.Index(
                fields=["participant", "created_at", "id"],
                condition=models.Q(state=SubmissionState.NEW),
                name="submission_waiting_turns",
            ),
            # The leaderboard's windows read a challenge's submissions by
            # participant, then by time (judging/leaderboard.py): this order lets
            # the planner skip the sort by participant when the challenge is a
            # small part of the table.
            models.Index(
                fields=["challenge", "participant", "created_at"],
                name="submission_board_order",
            ),
            # The admin's list filtered by challenge, newest first (its order is
            # -created_at, -id): the page's 50 rows read in order, however many
            # newer submissions of other challenges the table holds.
            models.Index(
                fields=["challenge", "created_at", "id"],
                name="submission_challenge_newest",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.filename} by {self.participant}"

    @property
    def is_ended(self) -> bool:
        return self.state in ENDED_STATES

    @property
    def run_status(self) -> str:
        """Which run this is and whether another will come (judging/run_wording.py)."""
        return run_wording.run_status(
            state=self.state,
            attempts=self.attempts,
            max_attempts=self.max_attempts,
            failure_kind=self.failure_kind,
        )


class LeaderboardStanding(models.Model):
    """A participant's standing on their challenge's leaderboard, twice (the open
    ranking's and the final one's): what the ranking's one pass over the challenge's
    submissions gives for them (judging/leaderboard.py `standings_computed`), kept so
    that a request reads one row per participant instead of ranking every
    submission, and with the representative's shown figures copied, so that it
    reads no submission either.

    Kept by PostgreSQL itself: statement triggers on judging_submission (migration
    0009, judging/standing_sql.py) recompute the standings of the participants whose
    submissions a statement inserted, deleted or changed in a column the leaderboard
    reads, in the same transaction. Triggers rather than services because every
    writer must keep it (services, leases' conditional updates, bulk updates,
    cascading deletes, factories in tests): a row that one path forgot would rank a
    student wrongly without a sound. SQLite (the single-machine default) has no
    such triggers here and ranks from the submissions each time.

    Both rankings are kept, so a change of the closing date needs nothing.
    """

    challenge = models.ForeignKey(
        "challenges.Challenge", on_delete=models.DO_NOTHING, db_constraint=False, related_name="+"
    )
    participant = models.ForeignKey(
        "challenges.Participant",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    # The ranking after the close (private scores), or the one before it.
    final = models.BooleanField()
    # Submissions not cancelled; the last upload (cancelled ones too); scored picks.
    made = models.PositiveIntegerField()
    last_at = models.DateTimeField(null=True)
    picked = models.PositiveIntegerField()
    # The representative for this ranking (None when no submission is eligible) and
    # what the leaderboard shows of it, as on the submission.
    submission = models.ForeignKey(
        "Submission",
        null=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    selected = models.BooleanField(null=True)
    promoted = models.BooleanField(null=True)
    created_at = models.DateTimeField(null=True)
    public_score = models.FloatField(null=True)
    private_score = models.FloatField(null=True)
    cv_mean = models.FloatField(null=True)
    cv_std = models.FloatField(null=True)
    cpu_seconds = models.FloatField(null=True)
    peak_memory_mb = models.FloatField(null=True)
    fit_seconds = models.FloatField(null=True)
    contributivity = models.FloatField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["challenge", "final", "participant"], name="standing_unique_participant"
            )
        ]

    def __str__(self) -> str:
        return f"standing of participant {self.participant_id}"


class LeaderboardImprovement(models.Model):
    """A point of the leaderboard's history chart: a participant's scored submission
    that improved their public score (judging/leaderboard.py `points_computed`,
    which the kept points must always equal), with what the chart shows of it.

    Kept by PostgreSQL as `LeaderboardStanding` is, by statement triggers on
    judging_submission (migration 0010, judging/improvement_sql.py), so that a page
    reads a few points per participant instead of a window over every scored
    submission of the challenge. SQLite computes them each time.
    """

    # The index below serves the challenge; the participant's (a ForeignKey's own)
    # serves the triggers' refresh.
    challenge = models.ForeignKey(
        "challenges.Challenge",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    participant = models.ForeignKey(
        "challenges.Participant",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    submission = models.ForeignKey(
        "Submission",
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        db_index=False,
        related_name="+",
    )
    created_at = models.DateTimeField()
    public_score = models.FloatField()
    cpu_seconds = models.FloatField()

    class Meta:
        indexes = [
            models.Index(
                fields=["challenge", "created_at", "submission"], name="improvement_board_order"
            ),
        ]

    def __str__(self) -> str:
        return f"improvement {self.submission_id} of participant {self.participant_id}"


class ChallengeBlend(models.Model):
    """The challenge's contributivity computation: whether it is stale, and what the
    last one found.

    Each scored result bumps `version`; a computation records the version it saw
    in `computed_version`, so a result recorded while it ran leaves the challenge
    stale for the next one. `lease_expires_at` is the claim of the computation
    running now (judging/contributivity.py).
    """

    challenge = models.OneToOneField(
        "challenges.Challenge", on_delete=models.CASCADE, related_name="blend"
    )
    version = models.PositiveIntegerField(default=0)
    computed_version = models.PositiveIntegerField(default=0)
    stale_since = models.DateTimeField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    computed_at = models.DateTimeField(null=True, blank=True)
    seconds = models.FloatField(null=True, blank=True)
    # Submissions blended (at most PPIPE_CONTRIBUTIVITY_MAX_SUBMISSIONS).
    candidates = models.PositiveIntegerField(default=0)
    # The time budget ran out before the greedy selection stopped on its own.
    cut_short = models.BooleanField(default=False)
    # Per fold: {"score": ensemble validation score, "members": [submission ids]}.
    folds = models.JSONField(default=list, blank=True)

    def __str__(self) -> str:
        return f"contributivity of challenge {self.challenge_id}"


class FoldResult(models.Model):
    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="folds")
    index = models.PositiveIntegerField()
    score = models.FloatField()
    fit_seconds = models.FloatField()
    predict_seconds = models.FloatField()
    cpu_seconds = models.FloatField()
    peak_memory_mb = models.FloatField()

    class Meta:
        ordering = ["submission", "index"]
        constraints = [
            models.UniqueConstraint(fields=["submission", "index"], name="fold_unique_index")
        ]

    def __str__(self) -> str:
        return f"fold {self.index} of submission {self.submission_id}"


class SubmissionEvent(models.Model):
    """The submission's timeline: every state change, with the attempt and a message."""

    submission = models.ForeignKey(Submission, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(auto_now_add=True)
    state = models.CharField(max_length=20, choices=SubmissionState.choices)
    attempt = models.PositiveIntegerField(default=0)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.state} at {self.at:%Y-%m-%d %H:%M:%S}"


class ConfigurationResult(models.Model):
    """One configuration of a judged pipeline: its cross-validation score and costs.

    A submission has one; a sweep one per combination of alternatives, the best
    by cross-validation score `chosen` (its test predictions are the submission's).
    Latencies are per inference batch of the challenge's batch size.
    """

    submission = models.ForeignKey(
        Submission, on_delete=models.CASCADE, related_name="configurations"
    )
    index = models.PositiveIntegerField()
    configuration = models.JSONField(default=dict, blank=True)
    chosen = models.BooleanField(default=False)
    cv_mean = models.FloatField()
    cv_std = models.FloatField()
    fit_seconds = models.FloatField()
    cpu_seconds = models.FloatField()
    peak_memory_mb = models.FloatField()
    latency_p50_ms = models.FloatField()
    latency_p95_ms = models.FloatField()
    batches = models.PositiveIntegerField()
    # None when the challenge sets no latency SLA.
    sla_met = models.BooleanField(null=True)
    # What the run was granted and did (a resource sweep's figures): the CPUs its
    # sandbox was confined to (None: not confined, the worker's threads), its batch
    # size (0: all rows), rows predicted per second of prediction, and its folds' wall
    # time. None for runs recorded before resource sweeps.
    cores = models.PositiveIntegerField(null=True, blank=True)
    batch_size = models.PositiveIntegerField(null=True, blank=True)
    throughput_rows_per_second = models.FloatField(null=True, blank=True)
    wall_seconds = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["submission", "index"]
        constraints = [
            models.UniqueConstraint(
                fields=["submission", "index"], name="configuration_unique_index"
            )
        ]

    def __str__(self) -> str:
        return f"configuration {self.index} of submission {self.submission_id}"

    @property
    def label(self) -> str:
        return ", ".join(f"{step}={choice}" for step, choice in self.configuration.items()) or "-"


class StepResult(models.Model):
    """Where a configuration's time and memory went, step by step (summed over folds)."""

    configuration = models.ForeignKey(
        ConfigurationResult, on_delete=models.CASCADE, related_name="steps"
    )
    order = models.PositiveIntegerField()
    name = models.CharField(max_length=40)
    target = models.CharField(max_length=300)
    level = models.PositiveIntegerField()
    fit_seconds = models.FloatField()
    cpu_seconds = models.FloatField()
    peak_memory_mb = models.FloatField()
    latency_p50_ms = models.FloatField()
    latency_p95_ms = models.FloatField()
    sla_met = models.BooleanField(null=True)

    class Meta:
        ordering = ["configuration", "order"]

    def __str__(self) -> str:
        return f"step {self.name}"


class ReproductionState(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    MATCHED = "matched"
    DIFFERED = "differed"
    FAILED = "failed"


# A reproduction that may still change.
REPRODUCTION_WAITING = (ReproductionState.QUEUED, ReproductionState.RUNNING)


class Reproduction(LeasedJob):
    """A finished run judged again from its recorded job, preferably on another
    worker, and whether its scores match the original's within the tolerance."""

    submission = models.ForeignKey(
        Submission, on_delete=models.CASCADE, related_name="reproductions"
    )
    requested_by = models.CharField(max_length=150)
    requested_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    state = models.CharField(
        max_length=12, choices=ReproductionState.choices, default=ReproductionState.QUEUED
    )
    original_worker = models.CharField(max_length=200, blank=True)
    worker = models.CharField(max_length=200, blank=True)
    task_id = models.CharField(max_length=100, blank=True)
    # One run: a reproduction that fails is reported with its reason, not retried.
    max_attempts = models.PositiveIntegerField(default=1)
    tolerance = models.FloatField()
    # Each compared score: {"name": {"original": x, "reproduced": y}}.
    scores = models.JSONField(default=dict, blank=True)
    max_difference = models.FloatField(null=True, blank=True)
    reason = models.TextField(blank=True)
    provenance = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-requested_at"]

    def __str__(self) -> str:
        return f"reproduction {self.pk} of submission {self.submission_id}"
