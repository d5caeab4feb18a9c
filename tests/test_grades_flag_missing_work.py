"""Missing work is flagged per student: no scored submission, no endpoint (when
endpoints count), questions unanswered by their deadline (including open ones
the reaper has not closed yet)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from grades.models import GradeWeights
from grades.selectors import challenge_grades
from receipts.models import Verdict
from tests.grading import a_class, person, question, scored
from tests.submissions import published_challenge

pytestmark = pytest.mark.django_db


def test_each_students_missing_work_is_flagged() -> None:
    challenge = published_challenge(receipt_questions=1)
    a_class(challenge)

    grades = challenge_grades(challenge)

    missing = {row.participant: row.missing for row in grades.rows}
    assert missing == {
        "ada": ("no_endpoint",),
        "grace": ("no_endpoint",),
        "linus": ("questions_missed",),
        "ken": ("no_scored_submission",),
        "idle": ("no_scored_submission", "no_endpoint"),
    }
    idle = grades.rows[-1]
    assert (idle.participant, idle.submissions, idle.mark) == ("idle", 0, 0.0)


def test_no_endpoint_is_flagged_only_when_endpoints_count() -> None:
    challenge = published_challenge()
    scored(person(challenge, "ada"), 0.9, 0.8)

    assert challenge_grades(challenge).rows[0].missing == ()
    weighted = GradeWeights(challenge=challenge, endpoint_uptime=1)
    assert challenge_grades(challenge, weights=weighted).rows[0].missing == ("no_endpoint",)


def test_an_open_question_past_its_deadline_counts_as_missed() -> None:
    challenge = published_challenge(receipt_questions=1)
    ada = person(challenge, "ada")
    scored(ada, 0.9, 0.8)
    question(ada, Verdict.OPEN, deadline=timezone.now() - timedelta(minutes=1))
    question(ada, Verdict.OPEN)

    (row,) = challenge_grades(challenge).rows

    assert (row.questions.posed, row.questions.missed, row.questions.open) == (2, 1, 1)
    assert row.missing == ("questions_missed",)
