"""Scored submissions with out-of-fold predictions in the artifact store, as a
judge worker leaves them, for the contributivity tests."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pandas as pd

from challenges.models import Challenge, Participant
from foundation.content_store import artifact_store
from judging.models import Submission, SubmissionState
from tests.factories import SubmissionFactory
from worker_wing.judge.job_inputs import cv_folds, fold_of_each_row


def training_labels(challenge: Challenge) -> tuple[np.ndarray, np.ndarray]:
    """The training labels and each row's fold, as the judge computes them."""
    data = artifact_store().read_bytes(challenge.split.train_sha256)
    target = challenge.target_column
    y = pd.read_parquet(io.BytesIO(data), columns=[target])[target]
    folds = cv_folds(y, challenge.task_type, challenge.judging_rules.cv_folds, challenge.split_seed)
    labels = y.to_numpy()
    if labels.dtype == object:  # text labels: as a student's .npy holds them
        labels = labels.astype(str)
    return labels, fold_of_each_row(folds, len(y))


def store_oof(values: np.ndarray) -> str:
    buffer = io.BytesIO()
    np.save(buffer, values, allow_pickle=False)
    return artifact_store().put_bytes(buffer.getvalue())


def run_fields(challenge: Challenge, oof: np.ndarray, score: float) -> dict[str, Any]:
    return {
        "cv_mean": score,
        "artifacts": {"oof": store_oof(oof)},
        "provenance": {
            "train_sha256": challenge.split.train_sha256,
            "cv_seed": challenge.split_seed,
        },
    }


def scored_with_oof(participant: Participant, oof: np.ndarray, score: float) -> Submission:
    challenge = participant.challenge
    return SubmissionFactory(
        participant=participant,
        state=SubmissionState.SCORED,
        public_score=score,
        private_score=score,
        cv_std=0.01,
        cpu_seconds=1.0,
        peak_memory_mb=100.0,
        fit_seconds=0.5,
        **run_fields(challenge, oof, score),
    )


def with_errors(y: np.ndarray, rows: np.ndarray | list[int]) -> np.ndarray:
    """y with the given rows' labels replaced by another label of y."""
    labels = np.unique(y)
    wrong = y.copy()
    for row in rows:
        wrong[row] = labels[(np.searchsorted(labels, y[row]) + 1) % len(labels)]
    return wrong
