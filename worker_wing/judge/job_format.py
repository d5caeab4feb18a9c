"""The judge job's wire format. No Django here: a judge worker, a test or a
benchmark builds and reads jobs without a database or settings."""

from __future__ import annotations

from typing import Any

from worker_wing.jobs import JudgeJobMessage, JudgeLimits
from worker_wing.pipeline.plan import run_plan
from worker_wing.pipeline.spec import estimator_pipeline

JOB_VERSION = 2

# A plain estimator.py is a one-step pipeline (see worker_wing/pipeline/spec.py):
# get_estimator() fitted on X and y, predicting from X.
ESTIMATOR_PLAN: dict[str, Any] = dict(run_plan(estimator_pipeline(), {}))


def job_plans(job: JudgeJobMessage) -> list[dict[str, Any]]:
    """The run plans of a job: one per configuration (jobs of version 1 had none)."""
    return list(job.get("plans") or [ESTIMATOR_PLAN])


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
    limits: JudgeLimits,
    filename: str = "estimator.py",
    id_column: str = "",
    threads: int = 1,
    kind: str = "estimator",
    plans: list[dict[str, Any]] | None = None,
    batch_size: int = 0,
    config_sha256: str = "",
    queue: str = "judge",
    participant: str = "",
) -> JudgeJobMessage:
    """The job's wire format, in one place (the control side, tests and benchmarks)."""
    return {
        "kind": "judge",
        "version": JOB_VERSION,
        "submission_id": submission_id,
        "attempt": attempt,
        "code": {"sha256": code_sha256, "filename": filename, "kind": kind},
        # What runs: one plan per configuration (a sweep has several).
        "plans": plans or [ESTIMATOR_PLAN],
        "batch_size": batch_size,
        # The digest of the challenge's judging configuration, for provenance.
        "config_sha256": config_sha256,
        # The queue whose workers may run it: the shared pool, or the challenge's own.
        "queue": queue,
        # Whose job it is: a warm sandbox runs one participant's jobs only.
        "participant": participant,
        "data": {
            "train_sha256": train_sha256,
            "test_features_sha256": test_features_sha256,
            "target_column": target_column,
            "id_column": id_column,
        },
        "task_type": task_type,
        "metric": metric,
        "cv": {"folds": folds, "seed": seed},
        "limits": JudgeLimits(**limits),
        "threads": threads,
    }
