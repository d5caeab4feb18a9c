from __future__ import annotations

from celery import shared_task


@shared_task(name="retention.tasks.collect_artifacts")
def collect_artifacts() -> dict[str, int]:
    """One bounded pass of the collector (retention/services.py), on the control
    worker: it reads every row that refers to the store."""
    from retention.services import artifacts_collect

    report = artifacts_collect(dry_run=False)
    return {
        "runs_collected": report.runs_collected,
        "files_deleted": report.files_deleted,
        "bytes_freed": report.bytes_freed,
        "files_left": report.files_left,
    }
