"""Building probe jobs from the database (control side only).

A probe job carries what a probe worker needs and nothing more: the endpoint's
URL and protocol, the feature rows to send (never their labels), the SSRF
policy's allowed ranges, and the caps. The stored form has no secret; the
endpoint's auth header is added only to the message sent.
"""

from __future__ import annotations

import random
from typing import Any

from django.conf import settings

from challenges.models import Challenge
from challenges.selectors import test_features
from probing.models import Endpoint, Probe

JOB_KIND = "probe"
JOB_VERSION = 1
REDACTED = "***"


def probe_rows(challenge: Challenge, count: int) -> list[int]:
    """Random positions in the hidden test set, as many as a probe sends."""
    total = challenge.split.public_test_rows + challenge.split.private_test_rows
    return sorted(random.sample(range(total), min(count, total)))


def probe_job(probe: Probe, *, keep_exchange: bool = False) -> dict[str, Any]:
    endpoint, challenge = probe.endpoint, probe.endpoint.challenge
    features = test_features(challenge.split.test_features_sha256)
    if challenge.id_column and challenge.id_column in features.columns:
        features = features.drop(columns=[challenge.id_column])
    chosen = features.iloc[probe.rows]
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
        "allowed_networks": challenge.probe_networks,
        "timeout_seconds": settings.PPIPE_PROBE_TIMEOUT_SECONDS,
        "max_response_bytes": settings.PPIPE_PROBE_MAX_RESPONSE_BYTES,
        "keep_exchange": keep_exchange,
    }


def with_auth(job: dict[str, Any], endpoint: Endpoint) -> dict[str, Any]:
    """The job as sent: with the endpoint's auth header, if it has one."""
    return {**job, "auth_header": endpoint.auth_header}
