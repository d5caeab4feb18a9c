"""The judge job's wire format. No Django here: a judge worker, a test or a
benchmark builds and reads jobs without a database or settings."""

from __future__ import annotations

from typing import Any

JOB_VERSION = 1


def job_payload(
    *,
    submission_id: int,
    attempt: int,
    code_sha256: str,
    train_sha256: str,
    test_features_sha256: str,
    target_column: str,
    task_type: str,
    metric: str,
    folds: int,
    seed: int,
    limits: dict[str, int],
    filename: str = "estimator.py",
    id_column: str = "",
    threads: int = 1,
) -> dict[str, Any]:
    """The job's wire format, in one place (the control side, tests and benchmarks)."""
    return {
        "kind": "judge",
        "version": JOB_VERSION,
        "submission_id": submission_id,
        "attempt": attempt,
        "code": {"sha256": code_sha256, "filename": filename},
        "data": {
            "train_sha256": train_sha256,
            "test_features_sha256": test_features_sha256,
            "target_column": target_column,
            "id_column": id_column,
        },
        "task_type": task_type,
        "metric": metric,
        "cv": {"folds": folds, "seed": seed},
        "limits": dict(limits),
        "threads": threads,
    }
