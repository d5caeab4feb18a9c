"""Upgrading a database made while every setting was a column of the challenge: each
challenge's release plan, judging rules, probe rules and receipt rules are found in
their apps' rows afterwards, with the values the teacher had chosen, the release
destinations and the judge store included; and going back restores the columns."""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from challenges.models import Challenge
from challenges.selectors import judging_configuration_digest
from tests.factories import ChallengeFactory, DestinationFactory

BEFORE_THE_SPLIT = [
    ("challenges", "0011_teams_move_to_their_app"),
    ("dispatch", "0002_destination_secret_options_encrypted"),
    ("judging", "0004_reproduction_under_a_lease"),
    ("probing", "0006_probe_under_a_lease"),
    ("receipts", "0001_initial"),
]
# What the digest of a run's judging configuration was made of, all columns of the
# challenge then.
JUDGED_BY_BEFORE_THE_SPLIT = (
    "dataset_sha256",
    "target_column",
    "id_column",
    "task_type",
    "metric",
    "test_fraction",
    "private_fraction",
    "split_seed",
    "cpu_seconds_limit",
    "memory_mb_limit",
    "wall_seconds_limit",
    "cv_folds",
    "batch_size",
    "step_latency_sla_ms",
    "pipeline_latency_sla_ms",
)
FIRST_RELEASE = timezone.now().replace(microsecond=0) + timedelta(days=2)
CHOSEN = {
    "first_release_at": FIRST_RELEASE,
    "release_proportions": "40,30,30",
    "release_interval_seconds": 3600,
    "release_cumulative": True,
    "release_format": "parquet",
    "release_per_participant": True,
    "destinations_per_release": 1,
    "cpu_seconds_limit": 42,
    "memory_mb_limit": 300,
    "wall_seconds_limit": 77,
    "submissions_per_day": 3,
    "cv_folds": 4,
    "final_selections": 2,
    "judge_queue": "judge-hospital",
    "batch_size": 16,
    "step_latency_sla_ms": 20,
    "pipeline_latency_sla_ms": 90,
    "max_sweep_configurations": 5,
    "reproduce_tolerance": 0.001,
    "probe_interval_seconds": 45,
    "probe_rows": 12,
    "latency_sla_ms": 250,
    "probe_allowed_networks": "10.20.0.0/16",
    "receipt_questions": 3,
    "receipt_deadline_hours": 12,
}


def migrate(targets: list[tuple[str, str]] | list[tuple[str, str | None]]) -> None:
    MigrationExecutor(connection).migrate(targets)


def _settings_of(challenge: Challenge) -> dict[str, Any]:
    rows = [
        challenge.release_plan,
        challenge.judging_rules,
        challenge.probe_rules,
        challenge.receipt_rules,
    ]
    return {name: getattr(row, name) for row in rows for name in CHOSEN if hasattr(row, name)}


@pytest.mark.django_db(transaction=True)
def test_settings_chosen_before_the_split_are_found_in_the_apps_rows() -> None:
    challenge = ChallengeFactory()
    folder, bucket = (DestinationFactory(owner=challenge.owner) for _ in range(2))
    store = DestinationFactory(owner=challenge.owner)
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()

    migrate(BEFORE_THE_SPLIT)
    try:
        old = MigrationExecutor(connection).loader.project_state(BEFORE_THE_SPLIT).apps
        OldChallenge = old.get_model("challenges", "Challenge")
        OldChallenge.objects.filter(pk=challenge.pk).update(**CHOSEN, judge_store_id=store.pk)
        OldChallenge.objects.get(pk=challenge.pk).destinations.set([folder.pk, bucket.pk])
    finally:
        migrate(latest)

    moved = Challenge.objects.get(pk=challenge.pk)
    assert _settings_of(moved) == CHOSEN
    assert moved.judging_rules.judge_store_id == store.pk
    assert set(moved.release_plan.destinations.values_list("pk", flat=True)) == {
        folder.pk,
        bucket.pk,
    }


@pytest.mark.django_db(transaction=True)
def test_going_back_puts_the_settings_on_the_challenge_again() -> None:
    challenge = ChallengeFactory(**CHOSEN)
    folder = DestinationFactory(owner=challenge.owner)
    challenge.release_plan.destinations.set([folder])
    digest = judging_configuration_digest(challenge)
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()

    migrate(BEFORE_THE_SPLIT)
    try:
        old = MigrationExecutor(connection).loader.project_state(BEFORE_THE_SPLIT).apps
        before = old.get_model("challenges", "Challenge").objects.get(pk=challenge.pk)
        assert {name: getattr(before, name) for name in CHOSEN} == CHOSEN
        assert list(before.destinations.values_list("pk", flat=True)) == [folder.pk]
        judged_by = {name: getattr(before, name) for name in JUDGED_BY_BEFORE_THE_SPLIT}
        canonical = json.dumps(judged_by, sort_keys=True, default=str)
        old_digest = hashlib.sha256(canonical.encode()).hexdigest()
    finally:
        migrate(latest)

    # Runs judged before the split carry the digest the code of the time computed
    # from the challenge's columns: the challenge still matches them after it.
    assert old_digest == digest
    assert judging_configuration_digest(Challenge.objects.get(pk=challenge.pk)) == digest
