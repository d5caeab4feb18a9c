"""Reading proof of receipt: a release's rows, a student's questions, the
leaderboard's receipt score."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import pandas as pd
from django.db.models import Count, Q, QuerySet

from challenges.models import Challenge, Participant
from dispatch.models import Release
from foundation.content_store import artifact_store
from receipts.models import Question, Verdict


@lru_cache(maxsize=4)
def _training_rows(train_sha256: str) -> pd.DataFrame:
    return artifact_store().read_frame(train_sha256)


def release_rows(release: Release) -> pd.DataFrame:
    """The rows the release file holds, in its order."""
    train = _training_rows(release.challenge.split.train_sha256)
    return train.iloc[release.row_start : release.row_stop]


def questions_of(participant: Participant) -> QuerySet[Question]:
    return Question.objects.filter(participant=participant).select_related("release")


# Verdicts as the page colours them: the classes .ok, .partial, .bad, .pending.
VERDICT_CLASSES = {
    Verdict.OPEN: "pending",
    Verdict.CORRECT: "ok",
    Verdict.PARTIAL: "partial",
    Verdict.INCORRECT: "bad",
    Verdict.MISSED: "bad",
}


@dataclass(frozen=True)
class ShownQuestion:
    """A question as the student's page shows it: numbered by its place in their
    list (releases in order, then as posed), which a later release never changes,
    so the page, its messages and answered rows keep one order and one name."""

    question: Question
    number: int
    total: int

    @property
    def label(self) -> str:
        return f"Question {self.number} of {self.total}"

    @property
    def verdict_class(self) -> str:
        return VERDICT_CLASSES.get(Verdict(self.question.verdict), "pending")


def shown_questions(participant: Participant) -> list[ShownQuestion]:
    questions = list(questions_of(participant).order_by("release__sequence", "id"))
    return [
        ShownQuestion(question=question, number=number, total=len(questions))
        for number, question in enumerate(questions, start=1)
    ]


def shown_question(question: Question) -> ShownQuestion:
    """One question as its page shows it (its number among its participant's)."""
    return next(
        shown for shown in shown_questions(question.participant) if shown.question.pk == question.pk
    )


def receipt_scores(challenge: Challenge) -> dict[int, float]:
    """Per participant: points over the questions judged or missed (correct 1,
    partial 1/2); open questions do not count yet. One query."""
    rows = (
        Question.objects.filter(participant__challenge=challenge)
        .exclude(verdict=Verdict.OPEN)
        .values("participant_id")
        .annotate(
            judged=Count("id"),
            correct=Count("id", filter=Q(verdict=Verdict.CORRECT)),
            partial=Count("id", filter=Q(verdict=Verdict.PARTIAL)),
        )
    )
    return {
        row["participant_id"]: (row["correct"] + row["partial"] / 2) / row["judged"] for row in rows
    }
