"""Failure kinds on the control side: the field both job tables store them in,
and the kind a worker's result carries, checked against the vocabulary
(worker_wing.jobs.FailureKind) before it is stored or becomes a metric label."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db import models

from worker_wing.failure_kinds import kind_of_reason
from worker_wing.jobs import FailureKind

LABELS = {
    FailureKind.STUDENT_ERROR: "student's code raised or misbehaved",
    FailureKind.CPU: "CPU time limit",
    FailureKind.MEMORY: "memory limit",
    FailureKind.WALL: "wall-clock limit",
    FailureKind.FILE_SIZE: "file size limit",
    FailureKind.PROCESSES: "process limit",
    FailureKind.SANDBOX: "sandbox unavailable",
    FailureKind.INFRASTRUCTURE: "infrastructure",
    FailureKind.LOST: "worker lost",
    FailureKind.CANCELLED: "cancelled",
}
CHOICES = [(kind.value, label) for kind, label in LABELS.items()]


def failure_kind_field() -> models.CharField[str, str]:
    """The `failure_kind` column: empty unless the job failed or was cancelled."""
    return models.CharField(max_length=20, choices=CHOICES, blank=True, db_index=True)


def result_failure_kind(result: Mapping[str, Any], reason: str, *, queue: str) -> FailureKind:
    """A failed result's kind: the one it carries when it is a known kind (a worker
    is not trusted to invent labels), else read from its reason (an older worker)."""
    carried = str(result.get("failure_kind") or "")
    if carried in FailureKind.__members__.values():
        return FailureKind(carried)
    return kind_of_reason(reason, queue=queue)
