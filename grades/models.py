"""A challenge's grading: the teacher's weights and how each component is
scaled, and the admin's page of grades."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import MinValueValidator
from django.db import models

from challenges.models import Challenge
from grades.marks import ABSOLUTE, HIGHER_IS_BETTER, LOWER_IS_BETTER, RELATIVE, Scaling

# The components a mark is made of, in the order pages and exports show them:
# (key, label). grades.marks says how each is brought to 0..1.
COMPONENTS = (
    ("score", "score (private after the close, public before)"),
    ("cpu_seconds", "CPU seconds (less is better)"),
    ("peak_memory_mb", "peak memory (less is better)"),
    ("endpoint_uptime", "endpoint uptime"),
    ("endpoint_sla", "endpoint SLA met"),
    ("endpoint_freshness", "endpoint freshness (fewer releases behind is better)"),
    ("receipts", "proof of receipt"),
)
# Short names of the components the teacher can scale, and their unit.
SCALED = {
    "score": ("score", "the metric"),
    "cpu_seconds": ("CPU seconds", "s"),
    "peak_memory_mb": ("peak memory", "MB"),
    "endpoint_freshness": ("releases behind", "releases"),
}
DEFAULT_TOLERANCE_PERCENT = 10.0


class ScalingKind(models.TextChoices):
    RELATIVE = RELATIVE, "relative to the class (min-max: best 1, worst 0)"
    ABSOLUTE = ABSOLUTE, "absolute (between values you set)"


def _weight(default: float, label: str) -> models.FloatField:
    return models.FloatField(
        f"weight of {label}", default=default, validators=[MinValueValidator(0.0)]
    )


def _scaling(label: str) -> models.CharField:
    return models.CharField(
        f"scaling of {label}",
        max_length=16,
        choices=ScalingKind.choices,
        default=ScalingKind.RELATIVE,
    )


def _bound(label: str, help_text: str, *, non_negative: bool) -> models.FloatField:
    return models.FloatField(
        label,
        null=True,
        blank=True,
        validators=[MinValueValidator(0.0)] if non_negative else [],
        help_text=help_text,
    )


def _tolerance(label: str) -> models.FloatField:
    return models.FloatField(
        f"tolerance of {label} (%)",
        default=DEFAULT_TOLERANCE_PERCENT,
        validators=[MinValueValidator(0.0)],
        help_text="Values within this percentage of the lowest of their group count as "
        "equal (groups from the class's lowest up), so measurement jitter does not "
        "move marks. 0: every difference counts.",
    )


class GradeWeights(models.Model):
    """How a challenge's components weigh in its students' marks, and how the score
    and the costs are scaled (grades.marks). A challenge without a row uses the
    defaults: the score alone, relative to the class."""

    challenge = models.OneToOneField(
        Challenge, on_delete=models.CASCADE, primary_key=True, related_name="grade_weights"
    )
    score = _weight(1.0, "score")
    cpu_seconds = _weight(0.0, "CPU seconds")
    peak_memory_mb = _weight(0.0, "peak memory")
    endpoint_uptime = _weight(0.0, "endpoint uptime")
    endpoint_sla = _weight(0.0, "endpoint SLA met")
    endpoint_freshness = _weight(0.0, "endpoint freshness")
    receipts = _weight(0.0, "proof of receipt")
    out_of = models.FloatField(
        "mark out of",
        default=100.0,
        validators=[MinValueValidator(0.01)],
        help_text="The best possible mark: 100 for a percentage, 20 for a mark out of 20.",
    )
    score_scaling = _scaling("score")
    score_floor = _bound(
        "score worth 0 (floor)",
        "Absolute scaling: a score at or below it is worth 0, e.g. 0.5.",
        non_negative=False,
    )
    score_target = _bound(
        "score worth 1 (target)",
        "Absolute scaling: a score at or above it is worth 1, e.g. 0.95.",
        non_negative=False,
    )
    cpu_seconds_scaling = _scaling("CPU seconds")
    cpu_seconds_budget = _bound(
        "CPU seconds worth 1 (budget)", "Absolute: at or below it, worth 1.", non_negative=True
    )
    cpu_seconds_limit = _bound(
        "CPU seconds worth 0 (limit)", "Absolute: at or above it, worth 0.", non_negative=True
    )
    cpu_seconds_tolerance = _tolerance("CPU seconds")
    peak_memory_mb_scaling = _scaling("peak memory")
    peak_memory_mb_budget = _bound(
        "peak MB worth 1 (budget)", "Absolute: at or below it, worth 1.", non_negative=True
    )
    peak_memory_mb_limit = _bound(
        "peak MB worth 0 (limit)", "Absolute: at or above it, worth 0.", non_negative=True
    )
    peak_memory_mb_tolerance = _tolerance("peak memory")
    endpoint_freshness_scaling = _scaling("releases behind")
    endpoint_freshness_budget = _bound(
        "releases behind worth 1 (budget)", "Absolute: at or below it, worth 1.", non_negative=True
    )
    endpoint_freshness_limit = _bound(
        "releases behind worth 0 (limit)", "Absolute: at or above it, worth 0.", non_negative=True
    )
    endpoint_freshness_tolerance = _tolerance("releases behind")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "grade weights"
        verbose_name_plural = "grade weights"

    def __str__(self) -> str:
        return f"grade weights of {self.challenge}"

    def as_dict(self) -> dict[str, float]:
        return {key: float(getattr(self, key)) for key, _ in COMPONENTS}

    def scaling_values(self) -> dict[str, Any]:
        """The scaling fields by name (what a download link carries, and the API)."""
        return {name: getattr(self, name) for name in SCALING_FIELDS}

    def scalings(self) -> dict[str, Scaling]:
        return scalings_from(self.scaling_values())

    def clean(self) -> None:
        errors = scaling_errors(self.scaling_values())
        if errors:
            raise ValidationError(errors)


def _names(key: str) -> tuple[str, str, str]:
    """The fields of a scaled component: its kind, the value worth 0, the one worth 1."""
    if key in HIGHER_IS_BETTER:
        return f"{key}_scaling", f"{key}_floor", f"{key}_target"
    return f"{key}_scaling", f"{key}_limit", f"{key}_budget"


def _fields_of(key: str) -> tuple[str, ...]:
    """A scaled component's fields in the order the form shows them."""
    if key in HIGHER_IS_BETTER:
        return _names(key)
    kind, zero, one = _names(key)
    return kind, one, zero, f"{key}_tolerance"


SCALING_FIELDS = tuple(name for key in SCALED for name in _fields_of(key))


def scalings_from(values: Mapping[str, Any]) -> dict[str, Scaling]:
    """Each scaled component's Scaling from the fields' values (tolerance in %)."""
    scalings = {}
    for key in SCALED:
        kind, zero, one = _names(key)
        tolerance = values.get(f"{key}_tolerance") or 0.0
        scalings[key] = Scaling(
            kind=values[kind],
            worth_zero=values[zero],
            worth_one=values[one],
            tolerance=float(tolerance) / 100,
        )
    return scalings


def scaling_errors(values: Mapping[str, Any]) -> dict[str, str]:
    """What is wrong with these scaling fields, by field, in words that say what to
    fix: absolute scaling needs both its values, the one worth 1 better than the one
    worth 0."""
    errors: dict[str, str] = {}
    for key, (name, unit) in SCALED.items():
        kind, zero, one = _names(key)
        tolerance = values.get(f"{key}_tolerance")
        if tolerance is not None and tolerance < 0:
            errors[f"{key}_tolerance"] = f"The tolerance of the {name} is 0 % or more."
        if values.get(kind) != ABSOLUTE:
            continue
        low, high = values.get(zero), values.get(one)
        if low is None:
            errors[zero] = f"Absolute scaling of the {name} needs the value worth 0 ({unit})."
        if high is None:
            errors[one] = f"Absolute scaling of the {name} needs the value worth 1 ({unit})."
        if low is None or high is None:
            continue
        if key in HIGHER_IS_BETTER and high <= low:
            errors[one] = (
                f"The {name} worth 1 (target) must be above the one worth 0 (floor, {low:g}): "
                "higher is better."
            )
        if key in LOWER_IS_BETTER and high >= low:
            errors[zero] = (
                f"The {name} worth 0 (limit) must be above the one worth 1 (budget, {high:g}): "
                "less is better."
            )
    return errors


class ChallengeGrades(Challenge):
    """A challenge seen from its grades: the admin lists a teacher's challenges
    under Grades, and each one's page previews and exports the marks."""

    class Meta:
        proxy = True
        verbose_name = "challenge grades"
        verbose_name_plural = "challenge grades"
