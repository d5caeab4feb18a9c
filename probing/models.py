from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from foundation.leases import LeasedJob
from foundation.secrets_at_rest import EncryptedTextField
from worker_wing.network_policy import parse_networks
from worker_wing.probe.protocols import PROTOCOLS


class Protocol(models.TextChoices):
    MLFLOW = "mlflow", "MLflow scoring (POST /invocations)"
    V2 = "v2", "Open Inference Protocol v2 (KServe, Triton, Seldon)"
    JSON = "json", 'Plain JSON ({"instances": [...]})'


assert {choice.value for choice in Protocol} == set(PROTOCOLS)


def validate_networks(value: str) -> None:
    try:
        parse_networks(value)
    except ValueError as error:
        raise ValidationError(str(error)) from None


class ProbeRules(models.Model):
    """How a challenge's live endpoints are probed: how often, with how many hidden
    test rows, the latency a probe must beat, and the networks beyond the public
    internet that probes may reach (the SSRF policy, worker_wing/network_policy.py)."""

    challenge = models.OneToOneField(
        "challenges.Challenge",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="probe_rules",
    )
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

    class Meta:
        verbose_name = "probe rules"
        verbose_name_plural = "probe rules"

    def __str__(self) -> str:
        return f"probe rules of {self.challenge}"

    @property
    def probe_networks(self) -> list[str]:
        return [str(network) for network in parse_networks(self.probe_allowed_networks)]


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
