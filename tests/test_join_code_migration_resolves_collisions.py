"""Upgrading a database whose challenges share a join code in different cases
(migration 0014): the oldest challenge keeps its code, every later one gets a fresh
code no challenge has, and the others are left as they were."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.state import StateApps
from django.utils import timezone

from challenges.models import Challenge
from tests.factories import ChallengeFactory, TeacherFactory

BEFORE_UNIQUE_CODES = [("challenges", "0013_release_order")]


def migrate(targets: list[tuple[str, str]]) -> None:
    MigrationExecutor(connection).migrate(targets)


def old_challenge(old_apps: StateApps, owner: Any, join_code: str) -> Any:
    """A challenge as the database before the migration holds it: through the model of
    that state (today's has sections whose later columns are not there yet)."""
    model = old_apps.get_model("challenges", "Challenge")
    built = ChallengeFactory.build(join_code=join_code)
    columns = {field.attname for field in model._meta.concrete_fields} - {"id"}
    values = {name: getattr(built, name) for name in columns if hasattr(built, name)}
    return model.objects.create(**{**values, "owner_id": owner.pk, "dataset": "iris.csv"})


@pytest.mark.django_db(transaction=True)
def test_the_oldest_keeps_its_code_and_later_ones_get_fresh_codes() -> None:
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()
    old_apps = executor.loader.project_state(BEFORE_UNIQUE_CODES).apps
    owner = TeacherFactory()
    migrate(BEFORE_UNIQUE_CODES)
    try:
        # Made in this order, so that the oldest by creation time has the highest id.
        later, latest_one, oldest, other, roster_a, roster_b = (
            old_challenge(old_apps, owner, code)
            for code in ("OWLS-2026", "Owls-2026", "owls-2026", "hawks-2026", "", "")
        )
        now = timezone.now()
        for age_days, challenge in ((3, oldest), (2, later), (1, latest_one)):
            type(challenge).objects.filter(pk=challenge.pk).update(
                created_at=now - timedelta(days=age_days)
            )
    finally:
        migrate(latest)

    codes = dict(Challenge.objects.values_list("pk", "join_code"))
    assert codes[oldest.pk] == "owls-2026"
    assert codes[other.pk] == "hawks-2026"
    assert codes[roster_a.pk] == codes[roster_b.pk] == ""
    fresh = {codes[later.pk], codes[latest_one.pk]}
    assert len(fresh) == 2
    assert all(len(code) == 10 for code in fresh)
    nonempty = [code.lower() for code in codes.values() if code]
    assert len(nonempty) == len(set(nonempty)) == 4
