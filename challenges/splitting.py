"""The hidden test split: deterministic (seeded) and stratified for classification.

The same dataset, fraction and seed give the same rows on any machine, so a
published challenge can be rebuilt and audited.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray


class SplitError(ValueError):
    """The split asked for cannot be made; the message says what to change."""


@dataclass(frozen=True)
class Split:
    train: NDArray[np.int64]
    public_test: NDArray[np.int64]
    private_test: NDArray[np.int64]

    @property
    def test(self) -> NDArray[np.int64]:
        return np.sort(np.concatenate([self.public_test, self.private_test]))


def _divide(
    positions: NDArray[np.int64],
    labels: pd.Series | None,
    *,
    fraction: float,
    seed: int,
    what: str,
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    # Imported here: this module is loaded by every Django process (the challenge
    # forms), and scikit-learn with scipy costs each about 2 s of CPU to import.
    from sklearn.model_selection import train_test_split

    try:
        kept, held = train_test_split(
            positions,
            test_size=fraction,
            random_state=seed,
            stratify=None if labels is None else labels.to_numpy(),
        )
    except ValueError as error:
        raise SplitError(f"Cannot split off the {what}: {error}") from None
    return np.sort(kept), np.sort(held)


def split_rows(
    target: pd.Series,
    *,
    stratify: bool,
    test_fraction: float,
    private_fraction: float,
    seed: int,
) -> Split:
    """Split row positions into train, public test and private test."""
    positions = np.arange(len(target), dtype=np.int64)
    train, test = _divide(
        positions,
        target if stratify else None,
        fraction=test_fraction,
        seed=seed,
        what="hidden test set",
    )
    if private_fraction <= 0:
        return Split(train=train, public_test=test, private_test=np.array([], dtype=np.int64))
    test_labels = target.iloc[test] if stratify else None
    # Stratifying the public/private halves needs two test rows per class; with
    # fewer, an unstratified split is the honest best and still deterministic.
    if test_labels is not None and test_labels.value_counts().min() < 2:
        test_labels = None
    public, private = _divide(
        test, test_labels, fraction=private_fraction, seed=seed + 1, what="private part"
    )
    return Split(train=train, public_test=public, private_test=private)
