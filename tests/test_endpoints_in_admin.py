"""Teachers see their challenges' endpoints, probes and questions in the admin:
an endpoint's auth header shows only as "set", probing can be paused, and the
expected answers of questions show here and nowhere else."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from probing.models import Endpoint, Probe, ProbeState
from probing.services import endpoint_register
from receipts.models import Question, QuestionKind
from tests.submissions import participants, published_challenge

pytestmark = pytest.mark.django_db

SECRET = "Authorization: Bearer s3cret-token"


def _endpoint(**challenge_fields: object) -> Endpoint:
    (student,) = participants(published_challenge(**challenge_fields), 1)
    endpoint, _ = endpoint_register(
        participant=student, url="https://model.example.org", protocol="json", auth_header=SECRET
    )
    return endpoint


def test_the_auth_header_is_never_shown_only_that_it_is_set(
    teacher: object, teacher_client: Client
) -> None:
    endpoint = _endpoint(owner=teacher)
    Probe.objects.create(
        endpoint=endpoint,
        scheduled_at=timezone.now() - timedelta(minutes=1),
        state=ProbeState.DONE,
        outcome="ok",
        http_status=200,
        total_ms=42.0,
        exchange={"request": {"headers": {"Accept": "application/json"}}},
    )

    listing = teacher_client.get(reverse("admin:probing_endpoint_changelist")).content.decode()
    page = teacher_client.get(
        reverse("admin:probing_endpoint_change", args=[endpoint.pk])
    ).content.decode()
    probes = teacher_client.get(
        reverse("admin:probing_probe_changelist") + f"?endpoint__id__exact={endpoint.pk}"
    ).content.decode()

    assert "set (hidden)" in listing
    assert "set (hidden)" in page
    assert "s3cret" not in listing + page + probes
    assert "Uptime" in page
    assert "100.0 %" in page
    # The latency and uptime charts: plotly figures, with plotly.js served from static files.
    assert 'id="latency-chart-plot"' in page
    assert 'id="uptime-chart-plot"' in page
    assert "plotly/plotly.min.js" in page
    assert "42.0" in probes


def test_a_teacher_sees_only_their_own_endpoints_and_questions(
    teacher: object, teacher_client: Client
) -> None:
    mine, theirs = _endpoint(owner=teacher), _endpoint()

    shown = teacher_client.get(reverse("admin:probing_endpoint_changelist")).context["cl"]
    other = teacher_client.get(reverse("admin:probing_endpoint_change", args=[theirs.pk]))

    assert {row.pk for row in shown.result_list} == {mine.pk}
    assert other.status_code == 302  # the admin's "does not exist" redirect


def test_pausing_an_endpoint_stops_its_scheduling(teacher: object, teacher_client: Client) -> None:
    endpoint = _endpoint(owner=teacher)

    teacher_client.post(
        reverse("admin:probing_endpoint_changelist"),
        {"action": "pause_selected", "_selected_action": [endpoint.pk]},
    )

    endpoint.refresh_from_db()
    assert endpoint.active is False


def test_questions_show_the_expected_answer_to_the_teacher(
    teacher: object, teacher_client: Client
) -> None:
    endpoint = _endpoint(owner=teacher)
    release = endpoint.challenge.releases.first()
    assert release is not None
    Question.objects.create(
        participant=endpoint.participant,
        release=release,
        kind=QuestionKind.ROW_COUNT,
        prompt="How many rows does release 1 hold?",
        expected=37,
        posted_at=timezone.now(),
        deadline=timezone.now() + timedelta(hours=1),
    )

    page = teacher_client.get(reverse("admin:receipts_question_changelist")).content.decode()

    assert "How many rows does release 1 hold?" in page
    assert ">37<" in page
