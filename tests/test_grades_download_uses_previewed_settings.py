"""Downloading from a preview gives the marks of the table shown: the links carry
the previewed (unsaved) settings, checked again by the same form, and the file
states the formula the page shows; without a preview they carry the saved ones."""

from __future__ import annotations

import csv
import io
import json
import re
from html import unescape
from pathlib import Path

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from playwright.sync_api import Page

from grades.models import GradeWeights
from tests.grading import a_class
from tests.submissions import published_challenge

# The public score absolute between 0.8 (worth 0) and 1 (worth 1), and CPU with a
# 1 s budget and a 10 s limit, out of 20: none of it saved.
PREVIEW = {
    **{key: "0" for key in ("peak_memory_mb", "endpoint_uptime", "endpoint_sla")},
    **{"endpoint_freshness": "0", "receipts": "0"},
    **{"score": "1", "cpu_seconds": "1", "out_of": "20"},
    **{"score_scaling": "absolute", "score_floor": "0.8", "score_target": "1"},
    **{"cpu_seconds_scaling": "absolute", "cpu_seconds_budget": "1", "cpu_seconds_limit": "10"},
    "preview": "Preview",
}


def _page(challenge_pk: int) -> str:
    return reverse("admin:grades_challengegrades_change", args=[challenge_pk])


def _link(html: str, element_id: str) -> str:
    return unescape(re.search(rf'href="([^"]+)" id="{element_id}"', html).group(1))


def _csv_marks(body: str) -> dict[str, float]:
    return {row["participant"]: float(row["mark"]) for row in csv.DictReader(io.StringIO(body))}


@pytest.mark.django_db
def test_the_csv_from_a_preview_has_the_marks_of_the_table_shown(
    teacher: object, teacher_client: Client
) -> None:
    challenge = published_challenge(owner=teacher)
    a_class(challenge)

    preview = teacher_client.post(_page(challenge.pk), PREVIEW)
    shown = {row.participant: row.mark for row in preview.context["grades"].rows}
    download = teacher_client.get(_link(preview.content.decode(), "download-csv"))

    # ada 0.90 public, 4 s: 20 * (0.5 + 6/9) / 2; grace 0.85, 2 s: 20 * (0.25 + 8/9) / 2.
    assert shown["ada"] == 11.67
    assert shown["grace"] == 11.39
    assert _csv_marks(download.content.decode()) == shown
    assert not GradeWeights.objects.filter(challenge=challenge).exists()
    saved = teacher_client.get(
        reverse("admin:grades_challengegrades_download", args=[challenge.pk, "csv"])
    )
    assert _csv_marks(saved.content.decode())["ada"] == 100.0  # the score alone, relative


@pytest.mark.django_db
def test_the_json_from_a_preview_states_the_formula_the_page_shows(
    teacher: object, teacher_client: Client
) -> None:
    challenge = published_challenge(owner=teacher)
    a_class(challenge)

    preview = teacher_client.post(_page(challenge.pk), PREVIEW)
    exported = json.loads(
        teacher_client.get(_link(preview.content.decode(), "download-json")).content
    )

    lines = preview.context["grades"].formula_lines
    assert lines[0] == "mark = 20 * (1 * score + 1 * cpu_seconds) / 2; a missing value counts 0"
    assert "(value - 0.8) / (1 - 0.8)" in lines[1]
    assert all(unescape(line) in unescape(preview.content.decode()) for line in lines)
    assert exported["formula"] == "\n".join(lines)
    assert exported["scaling"]["cpu_seconds"] == {
        "scaling": "absolute",
        "worth_0": 10.0,
        "worth_1": 1.0,
        "tolerance_percent": 10.0,
    }


@pytest.mark.django_db
def test_a_download_link_with_settings_that_make_no_marks_says_what_to_fix(
    teacher: object, teacher_client: Client
) -> None:
    challenge = published_challenge(owner=teacher)
    url = reverse("admin:grades_challengegrades_download", args=[challenge.pk, "csv"])

    response = teacher_client.get(url, {"score": "1", "score_scaling": "absolute", "out_of": "20"})

    assert response.status_code == 400
    assert "score_floor: Absolute scaling of the score needs the value worth 0" in (
        response.content.decode()
    )


@pytest.mark.django_db(transaction=True)
def test_in_the_browser_download_after_preview_equals_the_table(
    teacher: User, teacher_page: Page
) -> None:
    challenge = published_challenge(owner=teacher)
    a_class(challenge)
    page = teacher_page
    page.goto(_page(challenge.pk))

    page.locator("#id_cpu_seconds").fill("1")
    page.locator("#id_cpu_seconds_scaling").select_option("absolute")
    page.locator("#id_cpu_seconds_budget").fill("1")
    page.locator("#id_cpu_seconds_limit").fill("10")
    page.locator("#preview-grades").click()
    page.locator("#preview-note").wait_for()
    rows = page.locator("#grades-table tr.grade-row")
    table = {
        rows.nth(i).get_attribute("data-participant"): float(
            rows.nth(i).locator(".mark").inner_text()
        )
        for i in range(rows.count())
    }
    with page.expect_download() as download:
        page.locator("#download-csv").click()

    # ada, out of 100: the score relative (her 0.90 is the best: 1) and 4 s of CPU
    # between the 1 s budget and the 10 s limit (6/9): 100 * (1 + 6/9) / 2.
    assert table["ada"] == 83.33
    assert _csv_marks(Path(download.value.path()).read_text(encoding="utf-8")) == table
