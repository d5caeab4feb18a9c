"""Delivering a release as a worker does, and answering proof-of-receipt
questions as a student would: from the file received."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from django.utils import timezone

from challenges.models import Challenge
from dispatch.jobs import with_secrets
from dispatch.models import Transaction, TransactionState
from foundation.content_store import artifact_store
from receipts.models import QuestionKind
from worker_wing.release.executor import execute_release_job
from worker_wing.release.rclone import Rclone


def deliver_release(challenge: Challenge, sequence: int) -> list[Path]:
    """Run the release's real transactions to their local folders, as a worker does."""
    delivered = []
    transactions = Transaction.objects.filter(
        release__challenge=challenge, release__sequence=sequence
    ).select_related("destination")
    for planned in transactions:
        job = with_secrets(planned.job, planned.destination, attempt=1)
        result = execute_release_job(
            job, artifacts=artifact_store(), rclone=Rclone(), local_roots=None
        )
        assert result["ok"], result
        Transaction.objects.filter(id=planned.id).update(
            state=TransactionState.DONE, finished_at=timezone.now()
        )
        delivered.append(Path(job["destination"]["path"]))
    return delivered


def answer_from(frame: pd.DataFrame, question: dict[str, Any]) -> str:
    """What a student computes from the file they received."""
    if question["kind"] == QuestionKind.ROW_COUNT:
        return str(len(frame))
    if question["kind"] == QuestionKind.COLUMN_SUM:
        return repr(float(frame[question["column"]].sum()))
    return str(frame[question["column"]].iloc[question["row_number"] - 1])
