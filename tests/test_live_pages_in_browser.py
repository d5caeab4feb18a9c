"""A student's endpoint and questions in headless Chromium, against a live
server: register a model server from the challenge page, check it now through a
real probe worker and read the raw exchange, see the metrics and charts of its
probes. (Proof-of-receipt questions: tests/test_receipts_answered_in_place.py.)"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect

from challenges.models import Participant
from probing.models import Endpoint, Probe, ProbeState
from tests.browser import PASSWORD, patient_ms
from tests.probe_platform import probe_platform
from tests.probe_servers import iris_release, model_server
from tests.submissions import participants, published_challenge

pytestmark = pytest.mark.django_db(transaction=True)


def log_in(page: Page, participant: Participant, slug: str) -> None:
    page.goto(f"/accounts/login/?next=/challenges/{slug}/")
    page.get_by_label("Username").fill(participant.user.username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Live endpoint")).to_be_visible()


def test_register_check_now_and_read_the_charts(page: Page, settings: Any, tmp_path: Path) -> None:
    challenge = published_challenge(probe_rows=8, probe_allowed_networks="127.0.0.0/8")
    (ada,) = participants(challenge, 1)
    iris_release(tmp_path / "releases", 1)
    log_in(page, ada, challenge.slug)

    with probe_platform(settings, beat=False), model_server(tmp_path / "releases") as url:
        form = page.locator("#endpoint-form")
        form.get_by_label("URL").fill("not a url")
        form.get_by_role("button", name="Register my endpoint").click()
        expect(page.locator(".messages")).to_contain_text("is not a URL ppipe can probe")
        assert not Endpoint.objects.exists()

        form.get_by_label("URL").fill(url)
        form.get_by_label("Protocol").select_option("mlflow")
        form.locator("#id_auth_header").fill("Authorization: Bearer s3cret")
        form.get_by_role("button", name="Register my endpoint").click()
        expect(page.get_by_role("heading", name="Endpoint of")).to_be_visible()
        endpoint = Endpoint.objects.get(participant=ada)
        assert endpoint.auth_header == "Authorization: Bearer s3cret"

        page.get_by_role("button", name="Check now").click()
        result = page.locator("#check-result")
        expect(result.locator(".outcome")).to_have_text("ok", timeout=patient_ms(30))
        expect(page.locator("#check-request")).to_contain_text("dataframe_split")
        expect(page.locator("#check-response")).to_contain_text("HTTP 200")
        expect(page.locator("#check-response")).to_contain_text("predictions")
        assert "s3cret" not in page.content()

    # Probes over the window, as beat and the workers record them: the charts show
    # each one, the one without an answer as a failure, and the page says it is down.
    now = timezone.now()
    for minutes, status, total_ms, outcome in [
        (9, 200, 40.0, "ok"),
        (6, 200, 900.0, "ok"),
        (3, None, None, "timeout"),
    ]:
        Probe.objects.create(
            endpoint=endpoint,
            scheduled_at=now - timedelta(minutes=minutes),
            state=ProbeState.DONE,
            outcome=outcome,
            http_status=status,
            total_ms=total_ms,
            score=0.9 if outcome == "ok" else None,
            sla_met=outcome == "ok" and (total_ms or 0) <= challenge.probe_rules.latency_sla_ms,
            data_version="1",
        )
    page.goto(f"/endpoints/{endpoint.pk}/")
    latency = page.locator("#latency-chart-plot")
    expect(latency.locator(".legend")).to_have_count(1)  # drawn by plotly.js
    assert latency.evaluate("(el) => el.data.map((t) => [t.name, t.x.length])")[:2] == [
        ["valid answer", 2],
        ["failed", 1],
    ]
    expect(page.locator("#uptime-chart-plot .legend")).to_have_count(1)
    expect(page.locator("#down-notice")).to_contain_text("the last 1 scheduled probe failed")
    metrics = page.locator("#metrics")
    expect(metrics).to_contain_text("66.7 %")  # uptime: two of three answered
    expect(metrics).to_contain_text("trained on release 1")
    expect(page.locator("#probes tbody tr")).to_have_count(3)
