"""A cost's tolerance (10 % unless the teacher says otherwise): values are grouped
from the class's lowest up, each group taking in every value ≤ its start * (1 + t),
and count as their group's start; so jitter within t moves no mark, and a real
difference still separates. Worked by hand on CPU seconds."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from grades.marks import Scaling, scale, within_tolerance
from grades.models import GradeWeights
from grades.selectors import challenge_grades
from tests.grading import person, scored
from tests.submissions import published_challenge

CPU = [0.16, 0.17, 0.20, 0.40]


def test_values_within_ten_percent_of_the_best_count_as_the_best() -> None:
    # 0.16 starts a group up to 0.176 (0.17 joins it); 0.20 starts the next (up to
    # 0.22); 0.40 its own. Min-max on 0.16, 0.16, 0.20, 0.40, less is better:
    # (0.40 - v) / 0.24 → 1, 1, 0.20 / 0.24 = 0.8333, 0.
    assert within_tolerance(CPU, 0.10) == [0.16, 0.16, 0.20, 0.40]
    assert scale("cpu_seconds", CPU, Scaling(tolerance=0.10)) == pytest.approx(
        [1.0, 1.0, 0.20 / 0.24, 0.0]
    )
    # Without a tolerance 0.17 is separated from 0.16: 0.23 / 0.24.
    assert scale("cpu_seconds", CPU, Scaling())[1] == pytest.approx(0.23 / 0.24)


def test_jitter_larger_than_the_tolerance_still_separates() -> None:
    # The rejudge, 0.16 s then 0.20 s, is 25 % apart: separated at 10 %, equal
    # from 25 % (0.16 * 1.25 = 0.20 exactly, inside the group).
    assert within_tolerance([0.16, 0.20], 0.10) == [0.16, 0.20]
    assert within_tolerance([0.16, 0.20], 0.25) == [0.16, 0.16]
    assert scale("cpu_seconds", [0.16, 0.20, 0.40], Scaling(tolerance=0.25)) == pytest.approx(
        [1.0, 1.0, 0.0]
    )


@pytest.mark.django_db
def test_a_rejudge_within_the_tolerance_moves_no_mark() -> None:
    now = timezone.now()
    challenge = published_challenge(
        opens_at=now - timedelta(days=20), closes_at=now - timedelta(days=1)
    )
    scored(person(challenge, "grace"), 0.9, 0.9, cpu=0.16)
    ada = scored(person(challenge, "ada"), 0.9, 0.9, cpu=0.16)
    scored(person(challenge, "linus"), 0.9, 0.9, cpu=0.40)
    tolerant = GradeWeights(challenge=challenge, score=0, cpu_seconds=1, out_of=20)
    strict = GradeWeights(challenge=challenge, score=0, cpu_seconds=1, out_of=20)
    strict.cpu_seconds_tolerance = 0.0
    assert tolerant.cpu_seconds_tolerance == 10.0  # the default for new weights

    ada.cpu_seconds = 0.17  # the rejudge: 6 % more than the best, within 10 %
    ada.save(update_fields=["cpu_seconds"])
    marks = {
        row.participant: row.mark for row in challenge_grades(challenge, weights=tolerant).rows
    }
    exact = {row.participant: row.mark for row in challenge_grades(challenge, weights=strict).rows}

    assert marks == {"grace": 20.0, "ada": 20.0, "linus": 0.0}
    # Every difference counting, ada's rejudge cost her 20 * 0.01 / 0.24.
    assert exact["ada"] == round(20 * 0.23 / 0.24, 2) == 19.17
