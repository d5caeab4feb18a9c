"""The names of fields the platform computes, on any model the admin or the API
shows: what no teacher form and no API request body may accept."""

from __future__ import annotations

FIGURES = {
    "score", "public_score", "private_score", "cv_mean", "cv_std", "cpu_seconds",
    "peak_memory_mb", "fit_seconds", "wall_seconds", "predict_seconds", "contributivity",
    "contributivity_at", "provenance", "artifacts", "state", "attempts", "max_attempts",
    "lease_expires_at", "worker", "task_id", "bytes", "md5", "sha256", "verified",
    "duration_seconds", "total_ms", "connect_ms", "http_status", "outcome", "sla_met",
    "next_probe_at", "next_attempt_at", "published_at", "dataset_sha256", "dataset_rows",
    "finished_at", "started_at", "queued_at", "created_at", "updated_at", "verdict",
}  # fmt: skip
