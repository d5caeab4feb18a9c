"""Upgrading a database whose challenges share a join code in different cases
(migration 0014): the oldest challenge keeps its code, every later one gets a fresh
code no challenge has, and the others are left as they were."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from challenges.models import Challenge
from tests.factories import ChallengeFactory

BEFORE_UNIQUE_CODES = [("challenges", "0013_release_order")]


def migrate(targets: list[tuple[str, str]]) -> None:
    MigrationExecutor(connection).migrate(targets)


@pytest.mark.django_db(transaction=True)
def test_the_oldest_keeps_its_code_and_later_ones_get_fresh_codes() -> None:
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()
    migrate(BEFORE_UNIQUE_CODES)
    try:
        # Made in this order, so that the oldest by creation time has the highest id.
        later, latest_one, oldest, other, roster_a, roster_b = (
            ChallengeFactory(join_code=code)
            for code in ("OWLS-2026", "Owls-2026", "owls-2026", "hawks-2026", "", "")
        )
        now = timezone.now()
        for age_days, challenge in ((3, oldest), (2, later), (1, latest_one)):
            Challenge.objects.filter(pk=challenge.pk).update(
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
