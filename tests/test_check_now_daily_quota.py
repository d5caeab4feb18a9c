""" "Check now" is limited per student and day: past PPIPE_PROBE_CHECKS_PER_DAY
checks in 24 hours, the API answers 429 with `Retry-After` (until the oldest
counted check is a day old) and the page says when the next check is possible.
The checks are real: a probe worker sends them to a real model server."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from probing.models import Probe, ProbeKind
from tests.probe_platform import probe_platform
from tests.probe_servers import iris_release, model_server
from tests.processes import WorkerProcess
from tests.submissions import participants, published_challenge
from tests.test_api_challenges import token_client

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def probe_workers(transactional_db: None, settings: Any) -> Iterator[list[WorkerProcess]]:
    with probe_platform(settings, beat=False) as workers:
        yield workers


def test_the_checks_of_a_day_are_counted_then_refused_with_retry_after(
    probe_workers: list[WorkerProcess], tmp_path: Path, settings: Any
) -> None:
    settings.PPIPE_PROBE_CHECK_SECONDS = 0  # the cool-down is not under test
    settings.PPIPE_PROBE_CHECKS_PER_DAY = 2
    challenge = published_challenge(probe_rows=4, probe_allowed_networks="127.0.0.0/8")
    (ada,) = participants(challenge, 1)
    client = token_client(ada.user)
    iris_release(tmp_path / "releases", 1)
    with model_server(tmp_path / "releases") as url:
        endpoint = client.post(
            f"/api/challenges/{challenge.slug}/endpoints/",
            {"url": f"{url}/predict", "protocol": "json"},
            format="json",
        ).json()["id"]
        answers = [client.post(f"/api/endpoints/{endpoint}/check/") for _ in range(3)]

    assert [answer.status_code for answer in answers] == [200, 200, 429]
    assert answers[0].json()["outcome"] == "ok", answers[0].json()["detail"]
    refused = answers[2]
    first = Probe.objects.filter(kind=ProbeKind.CHECK).order_by("scheduled_at").first()
    assert first is not None
    assert "You have used your 2 checks of the last 24 hours" in refused.json()["detail"]
    # Retry-After: until the first counted check is a day old.
    day = timedelta(days=1).total_seconds()
    assert day - 120 < int(refused["Retry-After"]) <= day
    assert Probe.objects.filter(kind=ProbeKind.CHECK).count() == 2  # nothing was sent

    page = Client()
    page.force_login(ada.user)
    answer = page.post(f"/endpoints/{endpoint}/check/")
    assert answer.status_code == 200
    assert "You have used your 2 checks of the last 24 hours" in answer.content.decode()
    assert Probe.objects.filter(kind=ProbeKind.CHECK).count() == 2
