"""A probe's message carries no time (no eta, no expires): a probe host whose
clock is skewed would otherwise hold every probe or drop it as expired. The
scheduler sends a probe when its slot has come; the reaper ends what no worker
answered (tests/test_probe_services.py)."""

from __future__ import annotations

import json
import os
from typing import Any

import redis
from django.conf import settings

from probing.services import probe_task_id
from probing.tasks import _apply


def test_a_probe_message_has_no_eta_and_no_expiry() -> None:
    # A queue of this test's own: no worker of another test takes the message.
    queue = f"probe-no-clock-{os.getpid()}"
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    job: dict[str, Any] = {"probe_id": 987654, "auth_header": "X-Key: s3cret", "rows": []}
    try:
        _apply(job, queue=queue)
        (raw,) = broker.lrange(queue, 0, -1)
    finally:
        broker.delete(queue)

    headers = json.loads(raw)["headers"]
    assert headers["task"] == "probing.tasks.execute_probe"
    assert headers["eta"] is None
    assert headers["expires"] is None
    # Known before sending, so the reaper can discard it should no worker take it.
    assert headers["id"] == probe_task_id(987654)
    # Flower and the logs never show the endpoint's secret.
    assert "s3cret" not in headers["argsrepr"]
