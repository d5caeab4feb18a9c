"""The admin's submissions list, its rows formatted directly (foundation/admin_lists.py):
each row shows a teacher the state with its reason, the student, the challenge,
the scores, the costs and when it came, escapes what a student wrote, links to
the submission's page with the list's filters kept, and offers its checkbox to
the actions."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from judging.models import SubmissionState
from tests.factories import SubmissionFactory
from tests.submissions import participants, published_challenge

pytestmark = pytest.mark.django_db


def row_of(html: str, pk: int) -> str:
    start = html.index(f'name="_selected_action" value="{pk}"')
    return html[start : html.index("</tr>", start)]


def test_a_row_shows_what_a_teacher_needs(teacher: object, teacher_client: Client) -> None:
    challenge = published_challenge(owner=teacher, slug="own-course")
    student = participants(challenge, 1)[0]
    scored = SubmissionFactory(
        participant=student,
        state=SubmissionState.SCORED,
        public_score=0.81234,
        cv_mean=0.79,
        cpu_seconds=12.34,
        peak_memory_mb=456.4,
        promoted=True,
    )
    failed = SubmissionFactory(
        participant=student,
        state=SubmissionState.FAILED,
        reason="ValueError: <script>alert(1)</script>",
        attempts=2,
    )
    url = reverse("admin:judging_submission_changelist")

    html = teacher_client.get(url, {"state": "scored"}).content.decode()
    row = row_of(html, scored.pk)
    failed_row = row_of(teacher_client.get(url).content.decode(), failed.pk)

    change = reverse("admin:judging_submission_change", args=(scored.pk,))
    assert f'<a href="{change}?_changelist_filters=state%3Dscored">{scored.pk}</a>' in row
    for shown in ("own-course", student.user.username, "Scored", "0.8123", "0.7900"):
        assert f">{shown}</td>" in row
    assert ">12.3 s</td>" in row
    assert ">456 MB</td>" in row
    assert ">promoted</td>" in row
    assert f">{timezone.localtime(scored.created_at):%Y-%m-%d %H:%M}</td>" in row
    assert "Failed (run 2): " in failed_row
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in failed_row
    assert "<script>" not in failed_row
