"""The exact live score (the window's mean, which moves with each probe) is the
teacher's, in the admin; the student's API and page show only the published
score, here not yet published."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from challenges.selectors import hidden_labels
from probing.models import Probe
from probing.services import endpoint_register, probe_record_result
from tests.submissions import participants, published_challenge
from tests.test_api_challenges import token_client

pytestmark = pytest.mark.django_db


def test_the_teacher_reads_the_exact_score_and_the_student_does_not(
    teacher: object, teacher_client: Client
) -> None:
    challenge = published_challenge(owner=teacher)
    (student,) = participants(challenge, 1)
    endpoint, _ = endpoint_register(
        participant=student, url="http://m.example.org", protocol="json"
    )
    labels = hidden_labels(challenge.split.labels_sha256)[challenge.target_column]
    probe = Probe.objects.create(
        endpoint=endpoint, scheduled_at=timezone.now() - timedelta(minutes=1), rows=[0, 1, 2, 3]
    )
    wrong = "setosa" if labels.iloc[3] != "setosa" else "virginica"
    answers = [*labels.iloc[:3], wrong]  # 3 of 4 right: 0.75
    probe_record_result(
        result={"probe_id": probe.id, "outcome": "ok", "http_status": 200, "predictions": answers}
    )

    admin = teacher_client.get(reverse("admin:probing_endpoint_change", args=[endpoint.pk]))
    api = token_client(student.user).get(f"/api/endpoints/{endpoint.id}/").json()
    page = Client()
    page.force_login(student.user)
    shown = page.get(f"/endpoints/{endpoint.id}/").content.decode()

    assert "Score measured now (teachers only)" in admin.content.decode()
    assert "0.7500 over 4 rows" in admin.content.decode()
    assert api["metrics"]["score"] is None
    assert "0.75" not in str(api)
    assert "not yet published" in shown
    assert "0.75" not in shown
