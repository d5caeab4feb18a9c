"""A challenge is a core and one row of settings per app built on it
(challenges/sections.py): every challenge has every row, however it was made; the
admin page edits them as inlines, freezing the judging rules once published while
the release plan stays editable; a section's own checks reach the teacher beside
the core's, and nothing is saved unless all pass."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from challenges.models import Challenge
from challenges.sections import challenge_sections
from challenges.services import challenge_publish
from dispatch.models import ReleasePlan
from judging.models import JudgingRules
from probing.models import ProbeRules
from receipts.models import ReceiptRules
from retention.models import RetentionRules
from tests.admin_forms import form_errors, post_add_challenge, section_form
from tests.factories import ChallengeFactory, DestinationFactory, iris_csv
from tests.submissions import published_challenge

SECTION_MODELS = {ReleasePlan, JudgingRules, ProbeRules, ReceiptRules, RetentionRules}


def test_every_app_built_on_challenges_registers_its_section() -> None:
    assert {section.model for section in challenge_sections()} == SECTION_MODELS


@pytest.mark.django_db
def test_a_challenge_made_outside_the_forms_has_every_section_with_its_defaults(
    teacher: Any,
) -> None:
    challenge = Challenge.objects.create(
        owner=teacher,
        name="Shell-made",
        slug="shell-made",
        dataset=SimpleUploadedFile("iris.csv", iris_csv()),
        target_column="species",
        task_type="classification",
        metric="accuracy",
        opens_at=timezone.now(),
        closes_at=timezone.now() + timedelta(days=1),
    )

    for model in SECTION_MODELS:
        assert model.objects.filter(pk=challenge.pk).exists(), model
    assert challenge.judging_rules.cv_folds == 5
    assert challenge.probe_rules.probe_rows == 32
    assert challenge.receipt_rules.receipt_questions == 0
    assert challenge.release_plan.release_format == "csv"


@pytest.mark.django_db
def test_the_admin_saves_each_section_with_the_challenge(teacher_client: Client) -> None:
    response = post_add_challenge(
        teacher_client, cv_folds="3", probe_rows="7", receipt_questions="2", release_format="jsonl"
    )

    assert form_errors(response) == {}
    challenge = Challenge.objects.get(slug="iris")
    assert challenge.judging_rules.cv_folds == 3
    assert challenge.judging_rules.cpu_seconds_limit == 60
    assert challenge.probe_rules.probe_rows == 7
    assert challenge.receipt_rules.receipt_questions == 2
    assert challenge.release_plan.release_format == "jsonl"


@pytest.mark.django_db
def test_a_sections_error_is_shown_and_nothing_is_saved(teacher_client: Client) -> None:
    response = post_add_challenge(
        teacher_client, release_proportions="2,1", release_rows="10", judge_queue="not a queue"
    )

    errors = form_errors(response)
    assert "Give either release proportions or rows per release" in errors["release_rows"][0]
    assert "A judge queue is named judge-" in errors["judge_queue"][0]
    assert not Challenge.objects.exists()
    assert not JudgingRules.objects.exists()
    assert not ReleasePlan.objects.exists()


@pytest.mark.django_db
def test_a_published_challenge_freezes_its_judging_rules_but_not_its_release_plan(
    teacher_client: Client, teacher: Any
) -> None:
    challenge = ChallengeFactory(owner=teacher)
    challenge_publish(challenge=challenge)

    response = teacher_client.get(f"/admin/challenges/challenge/{challenge.pk}/change/")

    judging, plan = section_form(response, "judging_rules"), section_form(response, "release_plan")
    assert "cpu_seconds_limit" not in judging.fields
    assert "cv_folds" not in judging.fields
    assert "submissions_per_day" in judging.fields
    assert "release_interval_seconds" in plan.fields
    assert "destinations" in plan.fields


@pytest.mark.django_db
def test_a_teacher_is_offered_only_their_own_destinations(
    teacher_client: Client, teacher: Any
) -> None:
    challenge = ChallengeFactory(owner=teacher)
    own = DestinationFactory(owner=teacher, name="own-folder")
    DestinationFactory(name="someone-elses-folder")

    response = teacher_client.get(f"/admin/challenges/challenge/{challenge.pk}/change/")

    offered = set(section_form(response, "release_plan").fields["destinations"].queryset)
    stores = set(section_form(response, "judging_rules").fields["judge_store"].queryset)
    assert offered == {own}
    assert stores == {own}


# The public description (../shared/API.md): flat, whichever app keeps the setting.
PUBLIC_FIELDS = {
    "slug", "name", "description", "status", "task_type", "metric", "target_column",
    "id_column", "opens_at", "closes_at", "team_size", "release_order", "drift", "drift_column",
    "drift_strength", "cv_folds", "cpu_seconds_limit", "memory_mb_limit",
    "wall_seconds_limit", "submissions_per_day", "final_selections", "batch_size",
    "step_latency_sla_ms", "pipeline_latency_sla_ms", "max_sweep_configurations",
    "sweep_cores", "sweep_batch_sizes",
    "reproduce_tolerance", "code_sharing_at", "release_format", "release_cumulative",
    "release_downloads",
    "probe_interval_seconds", "probe_rows", "latency_sla_ms", "receipt_questions",
    "receipt_deadline_hours", "keep_days", "low_score_below", "low_score_days",
    "sla_missed_days",
}  # fmt: skip


@pytest.mark.django_db
def test_the_api_describes_a_challenge_flat_with_each_sections_values(teacher: Any) -> None:
    challenge = published_challenge(
        owner=teacher, cv_folds=3, probe_rows=9, receipt_questions=1, release_format="parquet"
    )
    client = APIClient()
    client.force_authenticate(teacher)

    listed = client.get("/api/challenges/").json()[0]
    described = client.get(f"/api/challenges/{challenge.slug}/").json()

    assert set(listed) == PUBLIC_FIELDS
    assert set(described) == PUBLIC_FIELDS | {"releases"}
    assert (listed["cv_folds"], listed["probe_rows"], listed["receipt_questions"]) == (3, 9, 1)
    assert described["release_format"] == "parquet"
    assert [release["sequence"] for release in described["releases"]] == [1]
