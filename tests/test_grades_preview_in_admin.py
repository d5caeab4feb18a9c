"""The admin's grades page: a teacher's challenges are listed under Grades; each
page shows the weights form and the table of marks, previews other weights
without saving them, saves them, and downloads what the API gives."""

from __future__ import annotations

import json

import pytest
from django.test import Client
from django.urls import reverse

from grades.models import GradeWeights
from tests.factories import TeacherFactory
from tests.grading import a_class
from tests.submissions import published_challenge

pytestmark = pytest.mark.django_db
WEIGHTS = {
    "score": "0",
    "cpu_seconds": "1",
    "peak_memory_mb": "0",
    "endpoint_uptime": "0",
    "endpoint_sla": "0",
    "endpoint_freshness": "0",
    "receipts": "0",
    "out_of": "20",
}


def _page(challenge_pk: int) -> str:
    return reverse("admin:grades_challengegrades_change", args=[challenge_pk])


def test_the_page_shows_the_marks_with_the_saved_weights(
    teacher: object, teacher_client: Client
) -> None:
    challenge = published_challenge(owner=teacher)
    a_class(challenge)

    response = teacher_client.get(_page(challenge.pk))

    assert response.status_code == 200
    html = response.content.decode()
    assert "Provisional" in html
    assert "min-max" in html
    marks = {row.participant: row.mark for row in response.context["grades"].rows}
    # The default weights: the public score alone; ada's pick 0.90, grace and linus 0.85.
    assert marks == {"ada": 100.0, "grace": 0.0, "linus": 0.0, "ken": 0.0, "idle": 0.0}
    assert 'id="download-csv"' in html
    assert "no scored submission" in html


def test_preview_changes_the_marks_and_saves_nothing(
    teacher: object, teacher_client: Client
) -> None:
    challenge = published_challenge(owner=teacher)
    a_class(challenge)

    response = teacher_client.post(_page(challenge.pk), {**WEIGHTS, "preview": "Preview"})

    assert response.status_code == 200
    marks = {row.participant: row.mark for row in response.context["grades"].rows}
    # CPU of the representatives 4, 2, 8 (less is better) out of 20: 40/6, 20, 0.
    assert marks["ada"] == round(20 * 4 / 6, 2)
    assert marks["grace"] == 20.0
    assert not GradeWeights.objects.filter(challenge=challenge).exists()


def test_saved_weights_are_the_downloads_and_the_apis(
    teacher: object, teacher_client: Client
) -> None:
    challenge = published_challenge(owner=teacher)
    a_class(challenge)

    saved = teacher_client.post(_page(challenge.pk), {**WEIGHTS, "save": "Save weights"})
    download = teacher_client.get(
        reverse("admin:grades_challengegrades_download", args=[challenge.pk, "json"])
    )

    assert saved.status_code == 302
    assert GradeWeights.objects.get(challenge=challenge).cpu_seconds == 1.0
    assert download["Content-Disposition"] == (
        f'attachment; filename="grades-{challenge.slug}-provisional.json"'
    )
    api = teacher_client.get(f"/api/challenges/{challenge.slug}/grades/").json()
    assert json.loads(download.content)["rows"] == api["rows"]
    assert api["rows"][1]["mark"] == 20.0  # grace: the least CPU


def test_all_weights_zero_is_refused_with_a_message(
    teacher: object, teacher_client: Client
) -> None:
    challenge = published_challenge(owner=teacher)

    response = teacher_client.post(
        _page(challenge.pk), {**WEIGHTS, "cpu_seconds": "0", "save": "Save weights"}
    )

    assert "at least one component a weight above 0" in response.content.decode()
    assert not GradeWeights.objects.filter(challenge=challenge).exists()


def test_the_list_holds_only_the_teachers_own_challenges(
    teacher: object, teacher_client: Client
) -> None:
    mine = published_challenge(owner=teacher)
    theirs = published_challenge(owner=TeacherFactory())

    html = teacher_client.get(reverse("admin:grades_challengegrades_changelist")).content.decode()
    index = teacher_client.get(reverse("admin:index")).content.decode()

    assert mine.name in html
    assert theirs.name not in html
    assert reverse("admin:grades_challengegrades_changelist") in index
