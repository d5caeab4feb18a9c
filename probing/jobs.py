"""Building probe jobs from the database (control side only).

A probe job carries what a probe worker needs and nothing more: the endpoint's
URL and protocol, the feature rows to send (never their labels), the SSRF
policy's allowed ranges, and the caps. The stored form has no secret; the
endpoint's auth header is added only to the message sent.
"""

from __future__ import annotations

import random
from functools import lru_cache

import numpy as np
from django.conf import settings
from numpy.typing import NDArray

from challenges.drift import NOISE, TIME, add_noise, rows_near
from challenges.models import Challenge
from challenges.selectors import hidden_labels, test_features
from dispatch.models import Release, TransactionState
from probing.models import Endpoint, Probe
from worker_wing.jobs import ProbeJobMessage

JOB_KIND = "probe"
JOB_VERSION = 1
REDACTED = "***"


def drift_time(challenge: Challenge) -> float:
    """Where the challenge is in its drift: the middle of the newest delivered
    release's slice of the training rows (the first release's before any)."""
    releases = Release.objects.filter(challenge=challenge)
    newest = (
        releases.filter(transactions__state=TransactionState.DONE).order_by("-sequence").first()
        or releases.order_by("sequence").first()
    )
    if newest is None:
        return 0.0
    rows = max(challenge.split.train_rows, 1)
    half_slice = 0.5 / max(releases.count(), 1)
    return min(max(newest.row_stop / rows - half_slice, 0.0), 1.0)


@lru_cache(maxsize=16)
def _test_row_times(labels_sha256: str) -> NDArray[np.float64]:
    return hidden_labels(labels_sha256)[TIME].to_numpy(dtype=float)


def probe_rows(challenge: Challenge, count: int, at: float | None = None) -> list[int]:
    """Positions in the hidden test set, as many as a probe sends: at random, or
    with drift, among the rows nearest time `at` (challenges/drift.py)."""
    if at is not None and challenge.drift_settings.active:
        times = _test_row_times(challenge.split.labels_sha256)
        return rows_near(times, at, count, np.random.default_rng())
    total = challenge.split.public_test_rows + challenge.split.private_test_rows
    return sorted(random.sample(range(total), min(count, total)))


def probe_job(probe: Probe, *, keep_exchange: bool = False) -> ProbeJobMessage:
    endpoint, challenge = probe.endpoint, probe.endpoint.challenge
    features = test_features(challenge.split.test_features_sha256)
    if challenge.id_column and challenge.id_column in features.columns:
        features = features.drop(columns=[challenge.id_column])
    chosen = features.iloc[probe.rows]
    drift = challenge.drift_settings
    if drift.kind == NOISE and probe.drift_time is not None:
        # The noise of the newest release, applied to the rows this probe sends.
        times = np.full(len(chosen), probe.drift_time)
        chosen = add_noise(chosen, times, drift.strength, seed=probe.id)
    return {
        "kind": JOB_KIND,
        "version": JOB_VERSION,
        "probe_id": probe.id,
        "endpoint_id": endpoint.id,
        "scheduled_at": probe.scheduled_at.isoformat(),
        "url": endpoint.url,
        "protocol": endpoint.protocol,
        "model_name": endpoint.model_name,
        "auth_header": REDACTED if endpoint.auth_header else "",
        "columns": [str(column) for column in chosen.columns],
        "rows": chosen.astype(object).where(chosen.notna(), None).to_numpy().tolist(),
        "allowed_networks": challenge.probe_rules.probe_networks,
        "timeout_seconds": settings.PPIPE_PROBE_TIMEOUT_SECONDS,
        "max_response_bytes": settings.PPIPE_PROBE_MAX_RESPONSE_BYTES,
        "keep_exchange": keep_exchange,
    }


def with_auth(job: ProbeJobMessage, endpoint: Endpoint) -> ProbeJobMessage:
    """The job as sent: with the endpoint's auth header, if it has one."""
    return {**job, "auth_header": endpoint.auth_header}
