"""Release jobs for executor tests, built as the control side builds them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from worker_wing.content_store import ContentStore
from worker_wing.release.executor import JOB_KIND, JOB_VERSION


def training_frame(rows: int = 100) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": range(rows),
            "x": [i * 0.5 for i in range(rows)],
            "label": ["a" if i % 3 else "b" for i in range(rows)],
        }
    )


def store_training_data(root: Path, frame: pd.DataFrame | None = None) -> str:
    return ContentStore(root).put_frame(training_frame() if frame is None else frame)


def release_job(
    source_sha256: str,
    *,
    remote: dict[str, Any],
    path: str,
    start: int = 0,
    stop: int = 40,
    fmt: str = "csv",
    transaction_id: int = 1,
    attempt: int = 1,
) -> dict[str, Any]:
    return {
        "kind": JOB_KIND,
        "version": JOB_VERSION,
        "transaction_id": transaction_id,
        "attempt": attempt,
        "challenge": "test",
        "sequence": 1,
        "due_at": "2026-11-24T12:00:00+00:00",
        "source": {"sha256": source_sha256, "format": "parquet"},
        "rows": {"start": start, "stop": stop},
        "format": fmt,
        "destination": {"name": "dest", "remote": remote, "path": path},
    }


def read_release(path: Path, fmt: str) -> pd.DataFrame:
    if fmt == "csv":
        return pd.read_csv(path)
    if fmt == "jsonl":
        return pd.read_json(path, lines=True)
    return pd.read_parquet(path)
