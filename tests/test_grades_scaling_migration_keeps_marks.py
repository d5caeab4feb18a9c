"""Upgrading weights saved before scaling and tolerances existed keeps the marks
they gave: the row comes out relative with 0 % tolerances (every difference
counts, as it did), while weights saved afterwards get the 10 % default."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from grades.marks import min_max
from grades.models import GradeWeights
from grades.selectors import challenge_grades
from grades.services import grade_weights_save
from tests.grading import person, scored
from tests.submissions import published_challenge

BEFORE_SCALING = [("grades", "0001_initial")]


def migrate(targets: list[tuple[str, str]]) -> None:
    MigrationExecutor(connection).migrate(targets)


@pytest.mark.django_db(transaction=True)
def test_weights_saved_before_keep_every_difference_and_their_marks() -> None:
    challenge = published_challenge()
    # 2.1 s is within 10 % of 2.0 s: a default tolerance would move grace's mark.
    for name, cpu in (("ada", 2.0), ("grace", 2.1), ("linus", 4.0)):
        scored(person(challenge, name), 0.9, 0.9, cpu=cpu)
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()

    migrate(BEFORE_SCALING)
    try:
        old = MigrationExecutor(connection).loader.project_state(BEFORE_SCALING).apps
        old.get_model("grades", "GradeWeights").objects.create(
            challenge_id=challenge.pk, score=0, cpu_seconds=1, out_of=100
        )
    finally:
        migrate(latest)

    upgraded = GradeWeights.objects.get(challenge=challenge)
    assert upgraded.cpu_seconds_tolerance == upgraded.peak_memory_mb_tolerance == 0.0
    assert upgraded.endpoint_freshness_tolerance == 0.0
    assert upgraded.score_scaling == upgraded.cpu_seconds_scaling == "relative"
    marks = {row.participant: row.mark for row in challenge_grades(challenge).rows}
    # The marks of the code before scaling: plain min-max over 2.0..4.0 s, less is
    # better (a 10 % tolerance would have given grace 100).
    assert min_max([2.0, 2.1, 4.0], higher_is_better=False) == pytest.approx([1.0, 0.95, 0.0])
    assert marks == {"ada": 100.0, "grace": 95.0, "linus": 0.0}


@pytest.mark.django_db
def test_weights_saved_now_get_the_ten_percent_default() -> None:
    challenge = published_challenge()

    saved = grade_weights_save(challenge=challenge, weights={"cpu_seconds": 1.0}, out_of=20)

    assert saved.cpu_seconds_tolerance == 10.0
    assert GradeWeights.objects.get(challenge=challenge).peak_memory_mb_tolerance == 10.0
