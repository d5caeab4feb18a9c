"""Upgrading a database made before release orders existed: its challenges, drafts
and published ones, keep the file's order, the only one there was, so a draft is
published as its teacher planned it and a published one says how its rows went out.
(New challenges are shuffled: tests/test_releases_of_a_class_sorted_csv.py.)"""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from challenges.models import Challenge
from tests.factories import ChallengeFactory
from tests.submissions import published_challenge

BEFORE_RELEASE_ORDERS = [("challenges", "0012_settings_moved_to_their_apps")]


def migrate(targets: list[tuple[str, str]]) -> None:
    MigrationExecutor(connection).migrate(targets)


@pytest.mark.django_db(transaction=True)
def test_existing_challenges_keep_the_files_order() -> None:
    draft = ChallengeFactory(release_order="shuffled")
    published = published_challenge(release_order="shuffled")
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()

    migrate(BEFORE_RELEASE_ORDERS)
    try:
        old = MigrationExecutor(connection).loader.project_state(BEFORE_RELEASE_ORDERS).apps
        columns = {f.name for f in old.get_model("challenges", "Challenge")._meta.fields}
        assert "release_order" not in columns
    finally:
        migrate(latest)

    orders = dict(Challenge.objects.values_list("pk", "release_order"))
    assert orders == {draft.pk: "file", published.pk: "file"}
