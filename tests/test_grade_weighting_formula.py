"""The mark: out_of * Σ(weight * component) / Σ weight, each component in 0..1
(min-max in the class for scores and costs, shares as they are, missing 0),
checked on a class small enough to compute by hand."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from grades.marks import mark, min_max
from grades.models import GradeWeights
from grades.selectors import challenge_grades
from receipts.models import Verdict
from tests.grading import person, question, scored
from tests.submissions import published_challenge


def test_min_max_puts_the_best_at_one_and_the_worst_at_zero() -> None:
    assert min_max([0.6, 0.8, 0.85, None], higher_is_better=True) == pytest.approx(
        [0.0, 0.8, 1.0, None]
    )
    assert min_max([4.0, 2.0, 8.0], higher_is_better=False) == pytest.approx([2 / 3, 1.0, 0.0])
    assert min_max([3.0, 3.0, None], higher_is_better=False) == [1.0, 1.0, None]


def test_a_missing_component_counts_zero_and_only_ratios_of_weights_matter() -> None:
    assert mark({"score": 1.0, "receipts": None}, {"score": 1, "receipts": 1}, 20) == 10.0
    assert mark({"score": 0.5}, {"score": 3}, 100) == mark({"score": 0.5}, {"score": 1}, 100)


@pytest.mark.django_db
def test_marks_of_a_small_class_computed_by_hand() -> None:
    now = timezone.now()
    challenge = published_challenge(
        opens_at=now - timedelta(days=20), closes_at=now - timedelta(days=1), receipt_questions=1
    )
    ada, grace, linus = (person(challenge, name) for name in ("ada", "grace", "linus"))
    scored(ada, 0.99, 0.80, cpu=4.0)
    scored(grace, 0.50, 0.85, cpu=2.0)
    scored(linus, 0.70, 0.60, cpu=8.0)
    question(linus, Verdict.CORRECT)
    question(linus, Verdict.MISSED, deadline=now - timedelta(hours=1))
    weights = GradeWeights(challenge=challenge, score=2, cpu_seconds=1, receipts=1, out_of=20)

    grades = challenge_grades(challenge, weights=weights)

    # Private scores (closed): 0.60..0.85 → ada 0.8, grace 1, linus 0. CPU 2..8, less is
    # better → ada 4/6, grace 1, linus 0. Receipts: linus ½ (1 correct of 2), others 0.
    marks = {row.participant: row.mark for row in grades.rows}
    assert marks == {
        "ada": round(20 * (2 * 0.8 + 4 / 6) / 4, 2),  # 11.33
        "grace": 15.0,
        "linus": 2.5,
    }
    assert marks["ada"] == 11.33
