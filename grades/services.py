"""Writes to grading. Callers: the admin."""

from __future__ import annotations

from challenges.models import Challenge
from grades.models import COMPONENTS, GradeWeights


class WeightsRefused(Exception):
    """The weights cannot make a mark; the message says why."""


def grade_weights_save(
    *, challenge: Challenge, weights: dict[str, float], out_of: float
) -> GradeWeights:
    """Store the challenge's weights (one row per challenge, replaced)."""
    unknown = set(weights) - {key for key, _ in COMPONENTS}
    if unknown:
        raise WeightsRefused(f"Unknown components: {', '.join(sorted(unknown))}.")
    if any(weight < 0 for weight in weights.values()) or not sum(weights.values()):
        raise WeightsRefused("Weights are 0 or more, and at least one is above 0.")
    if out_of <= 0:
        raise WeightsRefused("The mark must be out of more than 0.")
    saved, _ = GradeWeights.objects.update_or_create(
        challenge=challenge, defaults={**weights, "out_of": out_of}
    )
    return saved
