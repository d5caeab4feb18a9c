"""What a judged run leaves in the artifact store, under a manifest of its own.

A judge worker stores the run's test predictions (.npy), its out-of-fold
predictions (`oof`, .npy: each training row's prediction by the fold model that
did not see it, in row order; the control side blends them for contributivity),
its logs (the tails of stdout and stderr), the fitted model when it pickled
small, and a manifest (JSON)
naming them by sha256 with the job and its provenance. The submission keeps the
digests; anyone with the manifest can fetch the rest and re-run the job. No
Django here: judge workers call it.

The pickled model is the student's object: it is stored and offered for
download, never unpickled by the platform.
"""

from __future__ import annotations

import io
import json
import logging
from typing import Any

import numpy as np

from worker_wing.content_store import ContentStore
from worker_wing.jobs import JudgeJobMessage

logger = logging.getLogger(__name__)


def _npy(values: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, values, allow_pickle=False)
    return buffer.getvalue()


def run_artifacts(
    store: ContentStore,
    *,
    job: JudgeJobMessage,
    test_predictions: np.ndarray,
    report: dict[str, Any],
    model: bytes,
    provenance: dict[str, Any],
    out_of_fold: np.ndarray | None = None,
) -> dict[str, str]:
    """Store the run's artifacts; name -> sha256, `run` being the manifest.

    A store that refuses (full, unreachable) costs the run its artifacts, not its
    scores: the failure is logged and an empty mapping returned.
    """
    logs = (
        "--- stdout (last part) ---\n"
        + str(report.get("stdout_tail") or "")
        + "\n--- stderr (last part) ---\n"
        + str(report.get("stderr_tail") or "")
    )
    try:
        stored = {
            "predictions": store.put_bytes(_npy(test_predictions)),
            "logs": store.put_bytes(logs.encode()),
        }
        if out_of_fold is not None:
            stored["oof"] = store.put_bytes(_npy(out_of_fold))
        if model:
            stored["model"] = store.put_bytes(model)
        manifest = {
            "submission_id": job.get("submission_id"),
            "attempt": job.get("attempt"),
            "job": job,
            "provenance": provenance,
            "artifacts": stored,
        }
        stored["run"] = store.put_bytes(json.dumps(manifest, sort_keys=True).encode())
    except OSError:
        logger.exception("the artifacts of submission %s were not stored", job.get("submission_id"))
        return {}
    return stored
