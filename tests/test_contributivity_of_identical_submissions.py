"""Contributivity of a submission identical to another is 0 for the second: the
greedy selection never needs the copy, whoever uploaded it (issue 8)."""

from __future__ import annotations

import numpy as np
import pytest

from judging.contributivity import COMPUTED, contributivity_compute, contributivity_mark_stale
from judging.models import ChallengeBlend
from tests.contributivity import scored_with_oof, training_labels, with_errors
from tests.factories import ParticipantFactory
from tests.submissions import published_challenge

pytestmark = pytest.mark.django_db


def test_the_later_of_two_identical_submissions_gets_zero() -> None:
    challenge = published_challenge()
    ada, grace, linus = (ParticipantFactory(challenge=challenge) for _ in range(3))
    y, _ = training_labels(challenge)
    rows = np.arange(len(y))
    # Wrong on different rows: every fold has rows where one errs and the other not.
    original = with_errors(y, rows[rows % 7 == 0])
    other = with_errors(y, rows[rows % 7 == 3])
    first = scored_with_oof(ada, original, 0.85)
    second = scored_with_oof(grace, original.copy(), 0.85)
    third = scored_with_oof(linus, other, 0.85)
    contributivity_mark_stale(challenge_id=challenge.pk)

    assert contributivity_compute(challenge_id=challenge.pk) == COMPUTED

    for row in (first, second, third):
        row.refresh_from_db()
    assert second.contributivity == 0.0
    assert first.contributivity > 0
    assert first.contributivity + third.contributivity == pytest.approx(100.0)
    assert second.contributivity_at == first.contributivity_at is not None
    blend = ChallengeBlend.objects.get(challenge=challenge)
    assert blend.candidates == 3
    assert len(blend.folds) == challenge.judging_rules.cv_folds
    assert all(second.pk not in fold["members"] for fold in blend.folds)
