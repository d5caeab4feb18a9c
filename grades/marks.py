"""From a class's results to one mark per student (pure: no database).

Each component is brought to 0..1, then weighted:

    mark = out_of * Σ(weightᵢ * componentᵢ) / Σ weightᵢ

- Shares that are already 0..1 are used as they are: endpoint uptime, endpoint
  SLA met, proof of receipt (1 per correct answer, ½ per partial, over the
  questions judged or missed).
- The others are min-max scaled among the students who have a value: the best
  in the class gets 1, the worst 0, the others in proportion. For the score
  higher is better (every metric is, errors are negated); for CPU seconds, peak
  memory and releases behind (freshness) lower is better. When everybody has
  the same value, everybody gets 1.
- A student with no value (no scored submission, no endpoint, no judged
  question) gets 0 for that component.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

# How each component is brought to 0..1.
HIGHER_IS_BETTER = ("score",)
LOWER_IS_BETTER = ("cpu_seconds", "peak_memory_mb", "endpoint_freshness")
SHARES = ("endpoint_uptime", "endpoint_sla", "receipts")

FORMULA = (
    "mark = out_of * Σ(weight * component) / Σ weight; each component in 0..1: "
    "uptime, SLA met and proof of receipt are shares used as they are; score (higher is "
    "better), CPU seconds, peak memory and releases behind (lower is better) are min-max "
    "scaled in the class (best 1, worst 0, all equal: 1); a missing value counts 0."
)


def min_max(values: Sequence[float | None], *, higher_is_better: bool) -> list[float | None]:
    """Each value scaled to 0..1 between the class's worst (0) and best (1);
    None stays None; when all values are equal, all get 1."""
    present = [value for value in values if value is not None]
    if not present:
        return [None for _ in values]
    low, high = min(present), max(present)
    if high == low:
        return [None if value is None else 1.0 for value in values]
    span = high - low
    return [
        None
        if value is None
        else (value - low) / span
        if higher_is_better
        else (high - value) / span
        for value in values
    ]


def share(value: float | None) -> float | None:
    """A share, kept within 0..1."""
    return None if value is None else min(1.0, max(0.0, value))


def normalise(raw: Mapping[str, Sequence[float | None]]) -> dict[str, list[float | None]]:
    """Each component's raw values (one per student, in the same order) in 0..1."""
    scaled: dict[str, list[float | None]] = {}
    for key, values in raw.items():
        if key in SHARES:
            scaled[key] = [share(value) for value in values]
        elif key in HIGHER_IS_BETTER or key in LOWER_IS_BETTER:
            scaled[key] = min_max(values, higher_is_better=key in HIGHER_IS_BETTER)
        else:
            raise ValueError(f"Unknown grade component {key!r}.")
    return scaled


def mark(
    components: Mapping[str, float | None], weights: Mapping[str, float], out_of: float
) -> float:
    """out_of * Σ(wᵢ * cᵢ) / Σ wᵢ, a missing component counting 0, to two decimals."""
    total = sum(weights.values())
    if total <= 0:
        raise ValueError("At least one weight must be above 0.")
    weighted = sum(weight * (components.get(key) or 0.0) for key, weight in weights.items())
    return round(out_of * weighted / total, 2)
