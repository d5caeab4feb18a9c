"""Drift: later releases come from a shifted distribution, so an endpoint that
retrains on new data scores better on later probes than one that does not.

Every row of the dataset gets a *time* in [0, 1]. The training rows are released
in time order (release k holds the rows of its slice of time), and each probe
sends hidden test rows whose time is near that of the newest release delivered.
What sets the time is the teacher's choice:

- `ordered`: a column's rank (e.g. a date, or a feature that drifts);
- `class_prior`: the classes come in turn, mixed by the strength (0: no change,
  1: one class after another);
- `noise`: rows keep a random time, and their numeric features get Gaussian noise
  whose scale grows with the time, up to `strength` standard deviations.

Pure pandas and numpy: the publish step and the probe scheduler call it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

NONE, ORDERED, CLASS_PRIOR, NOISE = "none", "ordered", "class_prior", "noise"
TIME = "time"  # the column of the hidden labels holding each test row's time


@dataclass(frozen=True)
class Drift:
    kind: str
    column: str = ""
    strength: float = 0.5
    seed: int = 0

    @property
    def active(self) -> bool:
        return self.kind != NONE


def _ranks(values: pd.Series, rng: np.random.Generator) -> NDArray[np.float64]:
    """Ranks scaled to [0, 1], ties broken at random."""
    jitter = rng.random(len(values))
    order = np.lexsort((jitter, values.to_numpy()))
    ranks = np.empty(len(values))
    ranks[order] = np.arange(len(values))
    return ranks / max(len(values) - 1, 1)


def row_times(frame: pd.DataFrame, target: str, drift: Drift) -> NDArray[np.float64]:
    """The time of each row, in [0, 1]."""
    rng = np.random.default_rng(drift.seed)
    if drift.kind == ORDERED:
        return _ranks(frame[drift.column], rng)
    if drift.kind == CLASS_PRIOR:
        classes = sorted(frame[target].astype(str).unique())
        turn = frame[target].astype(str).map({c: i for i, c in enumerate(classes)})
        centre = turn.to_numpy(dtype=float) / max(len(classes) - 1, 1)
        mixed = drift.strength * centre + (1 - drift.strength) * rng.random(len(frame))
        return _ranks(pd.Series(mixed), rng)
    return rng.permutation(len(frame)) / max(len(frame) - 1, 1)


def add_noise(
    features: pd.DataFrame, times: NDArray[np.float64], strength: float, seed: int
) -> pd.DataFrame:
    """Numeric columns plus Gaussian noise of `strength * time` standard deviations."""
    rng = np.random.default_rng(seed)
    noisy = features.copy()
    for column in features.select_dtypes("number").columns:
        values = features[column].astype(float)
        scale = float(values.std(ddof=0)) if len(values) > 1 else 0.0
        noise = rng.standard_normal(len(values)) * scale * strength * times
        noisy[column] = values + noise
    return noisy


def drifted_train(
    train: pd.DataFrame, target: str, id_column: str, times: NDArray[np.float64], drift: Drift
) -> pd.DataFrame:
    """The training rows in time order (releases slice them in this order), with
    noise added for the `noise` kind."""
    ordered = train.iloc[np.argsort(times, kind="stable")]
    if drift.kind != NOISE:
        return ordered
    keep = [c for c in (target, id_column) if c and c in ordered.columns]
    features = ordered.drop(columns=keep)
    sorted_times = np.sort(times)
    noisy = add_noise(features, sorted_times, drift.strength, drift.seed)
    return pd.concat([noisy, ordered[keep]], axis=1)[list(ordered.columns)]


def rows_near(
    times: NDArray[np.float64], now: float, count: int, rng: np.random.Generator
) -> list[int]:
    """`count` positions among the rows whose time is nearest `now`: drawn from a
    band of twice as many (or a tenth of the rows), so probes vary."""
    band = min(len(times), max(count * 2, len(times) // 10, 1))
    nearest = np.argsort(np.abs(times - now), kind="stable")[:band]
    chosen = rng.choice(nearest, size=min(count, band), replace=False)
    return sorted(int(position) for position in chosen)
