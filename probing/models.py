from __future__ import annotations

from django.db import models

from foundation.leases import LeasedJob
from foundation.secrets_at_rest import EncryptedTextField
from worker_wing.probe.protocols import PROTOCOLS


class Protocol(models.TextChoices):
    MLFLOW = "mlflow", "MLflow scoring (POST /invocations)"
    V2 = "v2", "Open Inference Protocol v2 (KServe, Triton, Seldon)"
    JSON = "json", 'Plain JSON ({"instances": [...]})'


assert {choice.value for choice in Protocol} == set(PROTOCOLS)


class Endpoint(models.Model):
    """A student's deployed model, probed on the challenge's schedule. One per
    participant: registering again changes it (its probe history stays)."""

    challenge = models.ForeignKey(
        "challenges.Challenge", on_delete=models.CASCADE, related_name="endpoints"
    )
    participant = models.OneToOneField(
        "challenges.Participant", on_delete=models.CASCADE, related_name="endpoint"
    )
    url = models.CharField("URL", max_length=500)
    protocol = models.CharField(max_length=10, choices=Protocol.choices)
    model_name = models.CharField(max_length=200, blank=True, help_text="For the v2 protocol.")
    # A header sent with every probe, "Name: value". A secret: never rendered,
    # never logged, never in a stored job; the admin and the API say only whether
    # one is set. Encrypted at rest, with a key kept outside the database.
    auth_header = EncryptedTextField(max_length=2000, blank=True, editable=False)
    active = models.BooleanField(default=True)
    # The next scheduled probe. Each endpoint has a random phase within the interval,
    # so probes of a class spread out instead of arriving at once.
    next_probe_at = models.DateTimeField(null=True, blank=True, db_index=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"{self.participant.user} → {self.url}"


class ProbeKind(models.TextChoices):
    SCHEDULED = "scheduled"
    CHECK = "check", "check now"


class ProbeState(models.TextChoices):
    PENDING = "pending"
    DONE = "done"
    LOST = "lost"


class Probe(LeasedJob):
    """One probe of an endpoint: planned with its rows, then recorded once."""

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="probes")
    kind = models.CharField(max_length=10, choices=ProbeKind.choices, default=ProbeKind.SCHEDULED)
    state = models.CharField(max_length=10, choices=ProbeState.choices, default=ProbeState.PENDING)
    scheduled_at = models.DateTimeField()
    # A probe is one attempt: one that no worker answered within its lease is lost.
    max_attempts = models.PositiveIntegerField(default=1)
    started_at = models.DateTimeField(null=True, blank=True)
    recorded_at = models.DateTimeField(null=True, blank=True)
    # Positions in the hidden test set of the rows sent: scored on the control side.
    rows = models.JSONField(default=list)
    # With drift: the challenge's place in it when the probe was planned (0 to 1).
    drift_time = models.FloatField(null=True, blank=True)
    outcome = models.CharField(max_length=20, blank=True)
    detail = models.TextField(blank=True)
    http_status = models.PositiveIntegerField(null=True, blank=True)
    connect_ms = models.FloatField(null=True, blank=True)
    total_ms = models.FloatField(null=True, blank=True)
    score = models.FloatField(null=True, blank=True)
    sla_met = models.BooleanField(default=False)
    data_version = models.CharField(max_length=100, blank=True)
    worker = models.CharField(max_length=200, blank=True)
    # The raw exchange of a "check now", for the student to debug with.
    exchange = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-scheduled_at"]
        indexes = [
            models.Index(fields=["endpoint", "kind", "scheduled_at"]),
            # The admin's list and the metrics window, across all endpoints.
            models.Index(fields=["scheduled_at"]),
            # The reaper's question: which pending probes are past their lease.
            models.Index(fields=["state", "lease_expires_at"]),
        ]

    def __str__(self) -> str:
        return f"probe of {self.endpoint_id} at {self.scheduled_at:%Y-%m-%d %H:%M:%S}"


class ScorePublication(models.Model):
    """One publication slot of an endpoint's live score (probing/publication.py).

    A row per endpoint and slot marks the slot as done; `changed` rows are the
    values students see, each standing until the next changed one. The exact
    measured mean is not kept: teachers read it live in the admin."""

    endpoint = models.ForeignKey(Endpoint, on_delete=models.CASCADE, related_name="publications")
    slot = models.DateTimeField()
    # Rows of valid answers in the window before the slot (label-independent).
    rows = models.PositiveIntegerField(default=0)
    # The value that stands after this slot, its rounding step in the metric's
    # units, and whether this slot replaced the previous value (the ladder).
    score = models.FloatField(null=True, blank=True)
    step = models.FloatField(null=True, blank=True)
    changed = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-slot"]
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "slot"], name="score_publication_once_per_slot"
            )
        ]
        indexes = [models.Index(fields=["endpoint", "changed", "slot"])]

    def __str__(self) -> str:
        return f"score of {self.endpoint_id} at {self.slot:%Y-%m-%d %H:%M}"
