"""Absolute scaling: the teacher sets the value worth 0 and the one worth 1 (score:
a floor and a target; a cost: a limit and a budget), linear between, clamped
beyond; so the weakest student of a strong class does not get 0. Worked by hand."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from grades.marks import ABSOLUTE, Scaling, absolute, scale
from grades.models import GradeWeights
from grades.selectors import challenge_grades
from grades.services import WeightsRefused, grade_weights_save
from tests.grading import person, scored
from tests.submissions import published_challenge


def test_scores_between_the_floor_and_the_target_by_hand() -> None:
    scores = [0.5, 0.71, 0.95, 0.40, 0.99, None]

    scaled = absolute(scores, worth_zero=0.5, worth_one=0.95)

    # (0.71 - 0.5) / (0.95 - 0.5) = 0.21 / 0.45 = 0.4667; below the floor 0, above
    # the target 1, no score stays None.
    assert scaled == pytest.approx([0.0, 0.21 / 0.45, 1.0, 0.0, 1.0, None])
    assert scaled[1] == pytest.approx(0.4667, abs=1e-4)


def test_a_cost_between_its_budget_and_its_limit_by_hand() -> None:
    scaling = Scaling(kind=ABSOLUTE, worth_zero=10.0, worth_one=1.0)

    # CPU seconds: 1 s budget worth 1, 10 s limit worth 0, less is better.
    scaled = scale("cpu_seconds", [0.16, 0.20, 5.5, 12.0], scaling)

    assert scaled == pytest.approx([1.0, 1.0, 0.5, 0.0])


@pytest.mark.django_db
def test_the_weakest_of_a_strong_class_keeps_the_marks_their_score_is_worth() -> None:
    now = timezone.now()
    challenge = published_challenge(
        opens_at=now - timedelta(days=20), closes_at=now - timedelta(days=1)
    )
    for name, private in (("ada", 0.71), ("grace", 0.80), ("linus", 0.90)):
        scored(person(challenge, name), 0.5, private)
    relative = GradeWeights(challenge=challenge)
    fixed = GradeWeights(challenge=challenge, score_scaling=ABSOLUTE)
    fixed.score_floor, fixed.score_target = 0.5, 0.95

    before = {
        row.participant: row.mark for row in challenge_grades(challenge, weights=relative).rows
    }
    after = {row.participant: row.mark for row in challenge_grades(challenge, weights=fixed).rows}

    # Relative: 0.71..0.90 → ada 0, grace 0.09 / 0.19, linus 1. Absolute 0.5..0.95:
    # ada 0.21 / 0.45, grace 0.30 / 0.45, linus 0.40 / 0.45, out of 100.
    assert before == {"ada": 0.0, "grace": 47.37, "linus": 100.0}
    assert after == {"ada": 46.67, "grace": 66.67, "linus": 88.89}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"score_target": "0.95"}, "needs the value worth 0"),
        (
            {"score_floor": "0.9", "score_target": "0.5"},
            "must be above the one worth 0 (floor, 0.9)",
        ),
    ],
)
def test_absolute_scaling_without_both_values_in_order_is_refused(
    teacher: object, teacher_client: Client, fields: dict[str, str], message: str
) -> None:
    challenge = published_challenge(owner=teacher)
    page = reverse("admin:grades_challengegrades_change", args=[challenge.pk])

    response = teacher_client.post(
        page, {"score": "1", "out_of": "100", "score_scaling": ABSOLUTE, **fields, "save": "Save"}
    )

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not GradeWeights.objects.filter(challenge=challenge).exists()


@pytest.mark.django_db
def test_the_service_refuses_an_absolute_cost_with_its_limit_below_its_budget() -> None:
    challenge = published_challenge()
    backwards = {
        "cpu_seconds_scaling": ABSOLUTE,
        "cpu_seconds_budget": 10.0,
        "cpu_seconds_limit": 1.0,
    }

    with pytest.raises(WeightsRefused, match=r"worth 0 \(limit\) must be above .* \(budget, 10\)"):
        grade_weights_save(
            challenge=challenge, weights={"cpu_seconds": 1.0}, out_of=20, scaling=backwards
        )

    assert not GradeWeights.objects.filter(challenge=challenge).exists()
