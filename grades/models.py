"""A challenge's grading: the teacher's weights, and the admin's page of grades."""

from __future__ import annotations

from django.core.validators import MinValueValidator
from django.db import models

from challenges.models import Challenge

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


def _weight(default: float, label: str) -> models.FloatField:
    return models.FloatField(
        f"weight of {label}", default=default, validators=[MinValueValidator(0.0)]
    )


class GradeWeights(models.Model):
    """How a challenge's components weigh in its students' marks (grades.marks).
    A challenge without a row uses the defaults: the score alone."""

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
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "grade weights"
        verbose_name_plural = "grade weights"

    def __str__(self) -> str:
        return f"grade weights of {self.challenge}"

    def as_dict(self) -> dict[str, float]:
        return {key: float(getattr(self, key)) for key, _ in COMPONENTS}


class ChallengeGrades(Challenge):
    """A challenge seen from its grades: the admin lists a teacher's challenges
    under Grades, and each one's page previews and exports the marks."""

    class Meta:
        proxy = True
        verbose_name = "challenge grades"
        verbose_name_plural = "challenge grades"
