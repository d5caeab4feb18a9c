"""Since when an endpoint has been failing: from the first scheduled probe after
its last 2xx answer, while its newest probe failed; never from checks."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from probing.models import Endpoint, Probe, ProbeKind, ProbeState
from probing.selectors import endpoint_down_since
from tests.submissions import participants, published_challenge

pytestmark = pytest.mark.django_db


@pytest.fixture
def endpoint() -> Endpoint:
    challenge = published_challenge()
    (ada,) = participants(challenge, 1)
    return Endpoint.objects.create(
        challenge=challenge, participant=ada, url="http://127.0.0.1:9/", protocol="mlflow"
    )


def probe(endpoint: Endpoint, minutes_ago: int, status: int | None, **fields: Any) -> Probe:
    return Probe.objects.create(
        endpoint=endpoint,
        scheduled_at=timezone.now() - timedelta(minutes=minutes_ago),
        state=fields.pop("state", ProbeState.DONE),
        outcome="ok" if status == 200 else "timeout",
        http_status=status,
        **fields,
    )


def test_an_endpoint_is_down_from_its_first_failure_after_its_last_answer(
    endpoint: Endpoint,
) -> None:
    assert endpoint_down_since(endpoint) is None  # no probe yet
    probe(endpoint, 60, None)
    probe(endpoint, 50, 200)
    assert endpoint_down_since(endpoint) is None  # answered last

    first = probe(endpoint, 40, 503)
    probe(endpoint, 30, None, state=ProbeState.LOST)  # no worker answered: failed too
    newest = probe(endpoint, 20, None, detail="no answer in 10 s")
    probe(endpoint, 10, 200, kind=ProbeKind.CHECK)  # a check is not a scheduled probe
    probe(endpoint, -5, None, state=ProbeState.PENDING)  # not yet run
    down = endpoint_down_since(endpoint)
    assert down is not None
    assert down.since == first.scheduled_at
    assert down.failed_probes == 3
    assert down.latest == newest

    probe(endpoint, 5, 200)
    assert endpoint_down_since(endpoint) is None


def test_an_endpoint_never_answered_is_down_since_its_first_probe(endpoint: Endpoint) -> None:
    first = probe(endpoint, 30, None)
    probe(endpoint, 20, 404)
    down = endpoint_down_since(endpoint)
    assert down is not None
    assert down.since == first.scheduled_at
    assert down.failed_probes == 2
