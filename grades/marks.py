"""From a class's results to one mark per student (pure: no database).

Each component is brought to 0..1, then weighted:

    mark = out_of * Σ(weightᵢ * componentᵢ) / Σ weightᵢ

- Shares that are already 0..1 are used as they are: endpoint uptime, endpoint
  SLA met, proof of receipt (1 per correct answer, ½ per partial, over the
  questions judged or missed).
- The score (higher is better: every metric is, errors are negated) and the
  costs (CPU seconds, peak memory, releases behind: lower is better) are scaled
  as the teacher chooses per component (`Scaling`):
  - *relative* (min-max in the class): among the students who have a value, the
    best gets 1, the worst 0, the others in proportion; when everybody has the
    same value, everybody gets 1. Marks then depend on the class: the weakest
    student gets 0 however good their work.
  - *absolute*: two values the teacher sets, one worth 0 and one worth 1
    (score: a floor and a target, e.g. 0.5 → 0 and 0.95 → 1; a cost: a limit
    worth 0 and a budget worth 1), linear between and clamped to 0..1 beyond.
- A cost's **tolerance** t (a share: 0.1 for 10 %) keeps measurement jitter out
  of the marks. Before scaling, the class's values are grouped from the lowest
  up: a group starts at the lowest value not yet in one and takes in every
  value ≤ start * (1 + t); each value then counts as its group's start. So a
  value within t of the class's best counts as the best, and students within
  one group are equal; values further apart than t are separated as before.
  t = 0 changes nothing. It does not make jitter larger than t vanish: 0.16 s
  and 0.20 s CPU are 25 % apart, separated at 10 %, equal at 25 % (or under an
  absolute budget of, say, 1 s, where both are worth 1).
- A student with no value (no scored submission, no endpoint, no judged
  question) gets 0 for that component.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

# How each component is brought to 0..1.
HIGHER_IS_BETTER = ("score",)
LOWER_IS_BETTER = ("cpu_seconds", "peak_memory_mb", "endpoint_freshness")
SHARES = ("endpoint_uptime", "endpoint_sla", "receipts")

RELATIVE = "relative"
ABSOLUTE = "absolute"
# A value a teacher computes as exactly start * (1 + t) by hand (0.16 s at 25 %
# is 0.20 s) must land inside the group, whatever binary rounding does to it.
EDGE = 1e-9

FORMULA = (
    "mark = out_of * Σ(weight * component) / Σ weight; each component in 0..1: "
    "uptime, SLA met and proof of receipt are shares used as they are; the score "
    "(higher is better) and CPU seconds, peak memory and releases behind (lower is "
    "better) are scaled either relative to the class (min-max: best 1, worst 0, all "
    "equal: 1) or absolutely between a value worth 0 and a value worth 1 that the "
    "teacher sets (linear between, clamped); a cost's values within its tolerance of "
    "the lowest of their group (grouped from the class's lowest up) count as that "
    "lowest value; a missing value counts 0."
)


@dataclass(frozen=True)
class Scaling:
    """How the score or a cost is brought to 0..1 (see the module's docstring)."""

    kind: str = RELATIVE
    # Absolute only: the value worth 0 (score: floor; cost: limit) and the value
    # worth 1 (score: target; cost: budget).
    worth_zero: float | None = None
    worth_one: float | None = None
    # Costs only: a share, 0.1 for 10 %.
    tolerance: float = 0.0


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


def absolute(
    values: Sequence[float | None], *, worth_zero: float, worth_one: float
) -> list[float | None]:
    """Each value on the line through (worth_zero, 0) and (worth_one, 1), kept
    within 0..1: worth_one below worth_zero makes lower better (a cost)."""
    if worth_one == worth_zero:
        raise ValueError("The values worth 0 and worth 1 must differ.")
    span = worth_one - worth_zero
    return [
        None if value is None else min(1.0, max(0.0, (value - worth_zero) / span))
        for value in values
    ]


def within_tolerance(values: Sequence[float | None], tolerance: float) -> list[float | None]:
    """Lower is better: each value replaced by the start of its group, groups
    formed from the class's lowest value up, each taking in every value
    ≤ start * (1 + tolerance). None stays None."""
    if tolerance < 0:
        raise ValueError("A tolerance is 0 or more.")
    start_of: dict[float, float] = {}
    start: float | None = None
    for value in sorted({value for value in values if value is not None}):
        if start is None or value > start * (1 + tolerance) * (1 + EDGE):
            start = value
        start_of[value] = start
    return [None if value is None else start_of[value] for value in values]


def scale(key: str, values: Sequence[float | None], scaling: Scaling) -> list[float | None]:
    """The score's or a cost's values (one per student) in 0..1 under `scaling`."""
    higher_is_better = key in HIGHER_IS_BETTER
    if not higher_is_better and scaling.tolerance:
        values = within_tolerance(values, scaling.tolerance)
    if scaling.kind == RELATIVE:
        return min_max(values, higher_is_better=higher_is_better)
    if scaling.kind != ABSOLUTE or scaling.worth_zero is None or scaling.worth_one is None:
        raise ValueError(f"{key}: absolute scaling needs a value worth 0 and one worth 1.")
    return absolute(values, worth_zero=scaling.worth_zero, worth_one=scaling.worth_one)


def share(value: float | None) -> float | None:
    """A share, kept within 0..1."""
    return None if value is None else min(1.0, max(0.0, value))


def normalise(
    raw: Mapping[str, Sequence[float | None]], scalings: Mapping[str, Scaling] | None = None
) -> dict[str, list[float | None]]:
    """Each component's raw values (one per student, in the same order) in 0..1;
    a component without a scaling is relative, with no tolerance."""
    scalings = scalings or {}
    scaled: dict[str, list[float | None]] = {}
    for key, values in raw.items():
        if key in SHARES:
            scaled[key] = [share(value) for value in values]
        elif key in HIGHER_IS_BETTER or key in LOWER_IS_BETTER:
            scaled[key] = scale(key, values, scalings.get(key, Scaling()))
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


def _number(value: float) -> str:
    return f"{value:g}"


def _component_line(key: str, label: str, scaling: Scaling) -> str:
    if key in SHARES:
        return f"{key} ({label}): a share in 0..1, used as it is"
    tolerance = ""
    if key in LOWER_IS_BETTER and scaling.tolerance:
        tolerance = (
            f"; values within {_number(scaling.tolerance * 100)} % of the lowest of their "
            "group (grouped from the class's lowest up) count as that lowest value"
        )
    if scaling.kind == ABSOLUTE and scaling.worth_zero is not None:
        zero, one = _number(scaling.worth_zero), _number(scaling.worth_one or 0.0)
        if key in HIGHER_IS_BETTER:
            bounds = f"≤ {zero} → 0, ≥ {one} → 1"
        else:
            bounds = f"≤ {one} → 1, ≥ {zero} → 0"
        return (
            f"{key} ({label}): absolute, (value - {zero}) / ({one} - {zero}) within 0..1 "
            f"({bounds}){tolerance}"
        )
    direction = "highest" if key in HIGHER_IS_BETTER else "lowest"
    return (
        f"{key} ({label}): relative to the class, min-max: the {direction} 1 and the "
        f"other end 0 (all equal: 1){tolerance}"
    )


def formula_lines(
    weights: Mapping[str, float],
    out_of: float,
    scalings: Mapping[str, Scaling],
    labels: Mapping[str, str],
) -> list[str]:
    """The mark's formula under these settings, one line for the sum and one per
    weighted component, in the words and numbers the teacher chose."""
    used = [(key, weight) for key, weight in weights.items() if weight > 0]
    terms = " + ".join(f"{_number(weight)} * {key}" for key, weight in used)
    total = _number(sum(weight for _, weight in used))
    lines = [f"mark = {_number(out_of)} * ({terms}) / {total}; a missing value counts 0"]
    lines.extend(
        _component_line(key, labels.get(key, key), scalings.get(key, Scaling())) for key, _ in used
    )
    return lines
