"""The live score students see: published at fixed times, over many rows,
rounded, and replaced only by a clear change (a ladder).

Why. A probe's score is the metric on a handful of hidden test rows. When the
window's exact mean was shown, two reads around one probe gave that probe's
score; a server that answered the row under test with a guess and every other
row with an impossible label learnt one hidden label per probe (15 of 15,
private rows included: about 1,440 labels a day at the default interval).

The rule, for each endpoint at each publication slot `t` (the multiples of
`PPIPE_PROBE_SCORE_PUBLISH_SECONDS` since the Unix epoch: 00:00, 06:00, 12:00
and 18:00 UTC by default):

1. Over the scheduled probes of the window before `t` (`[t - window, t)`) that
   ended with valid predictions, count the rows `n`. Below
   `PPIPE_PROBE_SCORE_MIN_ROWS` (400) nothing new is published.
2. The measured score `m` is those probes' scores averaged, weighted by rows.
3. Every metric is read on a bounded scale `[low, high]` (accuracy and the
   other shares: 0 to 1; Matthews and R²: -1 to 1; an error: from 0 down to
   4 training-target standard deviations, their square for the squared error,
   400 % for the percentage error); a value past an end is shown as that end.
   The step is `s = 1 / k` of that range, `k` the largest of 1, 2, 4, 5, 10,
   20, 25, 40, 50, 100, ... that is at most both `sqrt(n)` and
   `PPIPE_PROBE_SCORE_STEPS` (50): never finer than the standard error of a
   share over `n` rows (at most `0.5 / sqrt(n)`), and a step that is a round
   decimal.
4. The ladder (Blum & Hardt, "The Ladder", 2015): the first value, or a value
   that differs from the standing one by at least `s`, is published rounded to
   a multiple of `s`; otherwise the standing value stays.

What every other figure a student sees (probe count, uptime, error rate, SLA
share, latency, rows counted, the step, the publication times) depends on:
the endpoint's answers and timing, never on a hidden label; whether an answer
is valid is decided from the challenge's label set, which is public. So the
only label-dependent output is the sequence of published values. (One corner:
a metric that refuses valid predictions on some rows, say one that needs both
classes among them, leaves that probe valid but unscored; its rows still count.)

The bound. Given the label-independent figures, a publication has at most
`k + 2` outcomes (the standing value stays, or one of the `k + 1` grid
values), so a day of `P = 86400 / PPIPE_PROBE_SCORE_PUBLISH_SECONDS`
publications carries at most `B = P * log2(STEPS + 2)` bits about the hidden
labels, whatever the student's server answers. A label of `c` classes holds
`log2(c) >= 1` bit, so one endpoint learns at most `B` binary labels (or
`B / log2(c)`) a day. At the defaults (`P = 4`, `STEPS = 50`): `4 * log2(52)`
= 22.8 bits, at most 22 labels a day per endpoint, against 1,440 before. A
team learns at most this per member's endpoint. The ladder keeps the actual
figure far below: a value stands until the score over hundreds of rows moves
by a whole step.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from worker_wing.judge.metrics import CLASSIFICATION, get_metric

# A step is 1/k of the metric's range, with k one of these times a power of ten
# (1, 2, 4, 5, 10, 20, 25, 40, 50, 100, ...): 1/k is then a short decimal.
_NICE_DIVISORS = (1.0, 2.0, 2.5, 4.0, 5.0)
# An error metric's range: this many standard deviations of the training target.
_ERROR_DEVIATIONS = 4.0
_SQUARED = ("neg_mean_squared_error",)
_RELATIVE = ("neg_mean_absolute_percentage_error",)
_SIGNED = ("matthews_corrcoef", "r2", "explained_variance")


@dataclass(frozen=True)
class Scale:
    """Where a metric's published values lie; past an end, the end is shown."""

    low: float
    high: float

    def unit(self, value: float) -> float:
        return (min(max(value, self.low), self.high) - self.low) / (self.high - self.low)

    def value(self, unit: float) -> float:
        return self.low + unit * (self.high - self.low)


def metric_scale(metric: str, target_deviation: float | None = None) -> Scale:
    """The bounded scale of a metric; an error metric's is in units of the
    training target's standard deviation (public: students have the training rows)."""
    task_type = get_metric(metric).task_type
    if metric in _SIGNED:
        return Scale(-1.0, 1.0)
    if task_type == CLASSIFICATION:
        return Scale(0.0, 1.0)
    if metric in _RELATIVE:
        return Scale(-_ERROR_DEVIATIONS, 0.0)
    spread = _ERROR_DEVIATIONS * (target_deviation or 1.0)
    if spread <= 0 or not math.isfinite(spread):
        spread = _ERROR_DEVIATIONS
    return Scale(-(spread**2 if metric in _SQUARED else spread), 0.0)


def step_divisions(rows: int, max_steps: int) -> int:
    """k, the number of steps across the scale: the largest round divisor at most
    sqrt(rows) and max_steps (1 at least)."""
    limit = min(math.sqrt(max(rows, 0)), float(max_steps))
    best, power = 1, 1
    while power <= limit:
        for divisor in _NICE_DIVISORS:
            k = divisor * power
            if k.is_integer() and k <= limit:
                best = max(best, int(k))
        power *= 10
    return best


@dataclass(frozen=True)
class LadderStep:
    score: float | None  # the value that stands after this publication
    step: float  # in the metric's units
    changed: bool


def ladder(
    *, measured: float, standing: float | None, scale: Scale, rows: int, max_steps: int
) -> LadderStep:
    """Blum & Hardt's ladder on one endpoint's live score: a new value replaces
    the standing one only when it moved by a whole step, and is shown rounded to it."""
    divisions = step_divisions(rows, max_steps)
    step_unit = 1.0 / divisions
    step = step_unit * (scale.high - scale.low)
    unit = scale.unit(measured)
    # A whole step, give or take float dust: 0.9 is one step of 0.1 below 1.0.
    if standing is not None and abs(unit - scale.unit(standing)) < step_unit * (1 - 1e-9):
        return LadderStep(standing, step, changed=False)
    # round() on a multiple then back: the grid value, without float dust.
    rounded = round(scale.value(round(unit * divisions) / divisions), 10)
    if standing is not None and rounded == standing:
        return LadderStep(standing, step, changed=False)
    return LadderStep(rounded, step, changed=True)


def publication_slot(now: datetime, period_seconds: int) -> datetime:
    """The latest publication time at or before `now`."""
    seconds = int(now.timestamp()) // period_seconds * period_seconds
    return datetime.fromtimestamp(seconds, tz=UTC)


def next_publication(now: datetime, period_seconds: int) -> datetime:
    return publication_slot(now, period_seconds) + timedelta(seconds=period_seconds)


def labels_per_day_bound(period_seconds: int, max_steps: int) -> float:
    """The bound of the module docstring: bits (binary labels) one endpoint's
    published score can carry in a day."""
    publications = 86400 / period_seconds
    return publications * math.log2(max_steps + 2)
