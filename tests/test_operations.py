"""What operators see: Prometheus metrics at /metrics (staff, or a scraper's
token) read from the broker and the database, and the admin's operations page
listing stuck and failed jobs by queue, with a link to Flower."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
import redis
from django.test import Client
from django.utils import timezone

from judging.models import SubmissionState
from probing.models import Probe, ProbeState
from probing.services import endpoint_register
from tests.factories import SubmissionFactory
from tests.submissions import participants, published_challenge

pytestmark = pytest.mark.django_db


@pytest.fixture
def jobs() -> dict[str, Any]:
    """A failed, a stuck and a scored submission, and an answered probe."""
    now = timezone.now()
    challenge = published_challenge()
    ada, grace, linus = participants(challenge, 3)
    failed = SubmissionFactory(
        participant=ada,
        state=SubmissionState.FAILED,
        reason="CPU time limit exceeded: the job used 61 s of its 60",
        failure_kind="cpu",
        wall_seconds=61.0,
        finished_at=now,
    )
    stuck = SubmissionFactory(
        participant=grace,
        state=SubmissionState.RUNNING,
        queued_at=now - timedelta(minutes=10),
        lease_expires_at=now - timedelta(minutes=5),
    )
    SubmissionFactory(participant=linus, state=SubmissionState.SCORED, wall_seconds=3.0)
    endpoint, _ = endpoint_register(
        participant=ada, url="https://model.example.org", protocol="json"
    )
    Probe.objects.create(
        endpoint=endpoint, scheduled_at=now, state=ProbeState.DONE, outcome="ok", total_ms=42.0
    )
    return {"failed": failed, "stuck": stuck}


def test_metrics_are_refused_to_anyone_but_staff_and_the_scraper(
    client: Client, settings: Any
) -> None:
    settings.PPIPE_METRICS_TOKEN = "scrape-me"

    assert client.get("/metrics").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-me").status_code == 200


def test_metrics_report_queues_jobs_failures_and_durations(
    teacher_client: Client, jobs: dict[str, Any], settings: Any
) -> None:
    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    marker = json.dumps({"ppipe-test": "a message waiting in the judge queue"})
    broker.lpush("judge", marker)
    try:
        text = teacher_client.get("/metrics").content.decode()
    finally:
        broker.lrem("judge", 1, marker)

    lines = set(text.splitlines())
    waiting = next(line for line in lines if line.startswith('ppipe_queue_length{queue="judge"}'))
    assert float(waiting.split()[-1]) >= 1
    assert 'ppipe_jobs{queue="judge",state="failed"} 1.0' in lines
    assert 'ppipe_jobs{queue="judge",state="running"} 1.0' in lines
    assert 'ppipe_job_failures_total{cause="student",kind="cpu",queue="judge"} 1.0' in lines
    assert 'ppipe_judge_job_seconds_bucket{le="5.0"} 1.0' in lines
    assert 'ppipe_judge_job_seconds_bucket{le="+Inf"} 2.0' in lines
    assert "ppipe_judge_job_seconds_sum 64.0" in lines
    assert 'ppipe_probe_latency_ms_bucket{le="50.0"} 1.0' in lines
    assert "ppipe_probe_latency_ms_gcount 1.0" in lines


def test_the_operations_page_lists_stuck_and_failed_jobs_by_queue(
    admin_client: Client, jobs: dict[str, Any]
) -> None:
    page = admin_client.get("/admin/operations/")

    assert page.status_code == 200
    html = page.content.decode()
    judge = html.split('id="problems-judge"')[1].split("</table>")[0]
    assert f"submission #{jobs['stuck'].pk}" in judge
    assert f"submission #{jobs['failed'].pk}" in judge
    assert "CPU time limit exceeded" in judge
    assert '<code class="failure-kind">cpu</code>' in judge
    assert 'id="flower-link"' in html


def test_teachers_get_neither_the_operations_page_nor_the_flower_link(
    teacher_client: Client, jobs: dict[str, Any]
) -> None:
    page = teacher_client.get("/admin/operations/")

    assert page.status_code == 403
    assert f"submission #{jobs['failed'].pk}" not in page.content.decode()
    assert 'id="flower-link"' not in teacher_client.get("/admin/").content.decode()
