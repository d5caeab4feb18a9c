"""Writes to grading. Callers: the admin."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from challenges.models import Challenge
from grades.models import COMPONENTS, SCALING_FIELDS, GradeWeights, scaling_errors


class WeightsRefused(Exception):
    """The weights cannot make a mark; the message says why."""


def grade_weights_save(
    *,
    challenge: Challenge,
    weights: dict[str, float],
    out_of: float,
    scaling: Mapping[str, Any] | None = None,
) -> GradeWeights:
    """Store the challenge's weights and, when given, its scaling fields (by name,
    GradeWeights' SCALING_FIELDS; those left out keep their value): one row per
    challenge, replaced."""
    unknown = set(weights) - {key for key, _ in COMPONENTS}
    if unknown:
        raise WeightsRefused(f"Unknown components: {', '.join(sorted(unknown))}.")
    if any(weight < 0 for weight in weights.values()) or not sum(weights.values()):
        raise WeightsRefused("Weights are 0 or more, and at least one is above 0.")
    if out_of <= 0:
        raise WeightsRefused("The mark must be out of more than 0.")
    scaling = dict(scaling or {})
    unknown_fields = set(scaling) - set(SCALING_FIELDS)
    if unknown_fields:
        raise WeightsRefused(f"Unknown scaling fields: {', '.join(sorted(unknown_fields))}.")
    current = GradeWeights.objects.filter(challenge=challenge).first() or GradeWeights()
    problems = scaling_errors({**current.scaling_values(), **scaling})
    if problems:
        raise WeightsRefused(" ".join(problems.values()))
    saved, _ = GradeWeights.objects.update_or_create(
        challenge=challenge, defaults={**weights, "out_of": out_of, **scaling}
    )
    return saved
