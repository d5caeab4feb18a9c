"""Proof of receipt, control side: posing questions about the releases each
student received, judging their answers, closing what the deadline passed.

A question is posed once a release has reached the student (a transaction to
a shared destination, or to their own folder, is done). Its rows are chosen
at random with the system's generator, and its expected answer is computed
from the very rows the release file holds (the training rows
[row_start, row_stop)). The first answer is final, so guessing cannot be
repeated until right; it is judged at once:

- row count: exact is correct; one off (a header counted) is partial;
- a number (a cell, a column's sum): within a relative 1e-6 is correct (what
  printing a float loses), within 1 % partial;
- text: the same after trimming is correct; the same but for case, partial.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

import pandas as pd
from django.db import transaction
from django.utils import timezone

from challenges.models import Challenge, Participant
from dispatch.models import Release, TransactionState
from receipts.models import Question, QuestionKind, Verdict
from receipts.selectors import release_rows

CORRECT_RELATIVE = 1e-6
PARTIAL_RELATIVE = 1e-2


class AnswerRefused(Exception):
    """An answer that cannot be taken; the message says why."""


def _plain(value: Any) -> Any:
    """A cell as JSON: numpy scalars become Python numbers, anything else text."""
    if hasattr(value, "item"):
        value = value.item()
    return value if isinstance(value, bool | int | float | str) else str(value)


def _file_name(release: Release) -> str:
    return f"release-{release.sequence:03d}.{release.challenge.release_plan.release_format}"


def _cell_question(
    rng: random.Random, release: Release, frame: pd.DataFrame, columns: list[str]
) -> dict[str, Any] | None:
    column = rng.choice(columns)
    present = [position for position, value in enumerate(frame[column]) if not pd.isna(value)]
    if not present:
        return None
    position = rng.choice(present)
    id_column = release.challenge.id_column
    if id_column:
        row_id = str(_plain(frame[id_column].iloc[position]))
        where = f"the row whose '{id_column}' is {row_id}"
    else:
        row_id = ""
        where = f"data row {position + 1} (counting from 1, not counting a header)"
    return {
        "kind": QuestionKind.CELL,
        "column": column,
        "row_number": position + 1,
        "row_id": row_id,
        "prompt": f"In {_file_name(release)}, what is the value of '{column}' in {where}?",
        "expected": _plain(frame[column].iloc[position]),
    }


def _sum_question(
    rng: random.Random, release: Release, frame: pd.DataFrame, numeric: list[str]
) -> dict[str, Any] | None:
    if not numeric:
        return None
    column = rng.choice(numeric)
    return {
        "kind": QuestionKind.COLUMN_SUM,
        "column": column,
        "prompt": f"In {_file_name(release)}, what is the sum of '{column}' over all rows "
        "(missing values skipped)?",
        "expected": _plain(frame[column].sum()),
    }


def _count_question(release: Release, frame: pd.DataFrame) -> dict[str, Any]:
    return {
        "kind": QuestionKind.ROW_COUNT,
        "prompt": f"How many data rows does {_file_name(release)} hold (not counting a header)?",
        "expected": len(frame),
    }


def _questions_for(release: Release, count: int) -> list[dict[str, Any]]:
    rng = random.SystemRandom()
    frame = release_rows(release)
    id_column = release.challenge.id_column
    columns = [str(c) for c in frame.columns if c != id_column]
    numeric = [
        str(c)
        for c in frame.columns
        if c != id_column
        and pd.api.types.is_numeric_dtype(frame[c])
        and not pd.api.types.is_bool_dtype(frame[c])
    ]
    questions: list[dict[str, Any]] = []
    counted = False
    while len(questions) < count:
        kinds = ["cell", "sum"] if counted else ["cell", "sum", "count"]
        kind = rng.choice(kinds)
        if kind == "count":
            counted = True
            questions.append(_count_question(release, frame))
            continue
        made = (
            _cell_question(rng, release, frame, columns)
            if kind == "cell"
            else _sum_question(rng, release, frame, numeric)
        )
        if made is not None:
            questions.append(made)
        elif counted and not columns:
            break  # nothing else to ask about
    return questions


def _deliveries(challenge: Challenge) -> dict[int, set[int]]:
    """The participants each delivered release of the challenge reached."""
    everyone = set(Participant.objects.filter(challenge=challenge).values_list("id", flat=True))
    reached: dict[int, set[int]] = defaultdict(set)
    done = (
        Release.objects.filter(challenge=challenge, transactions__state=TransactionState.DONE)
        .values_list("id", "transactions__participant_id")
        .distinct()
    )
    for release_id, participant_id in done:
        reached[release_id] |= everyone if participant_id is None else {participant_id}
    return reached


def questions_pose(*, challenge: Challenge, now: datetime | None = None) -> int:
    """Pose the questions due for every delivered release and participant that has
    none yet; returns how many were posed."""
    if challenge.receipt_rules.receipt_questions <= 0:
        return 0
    now = now or timezone.now()
    reached = _deliveries(challenge)
    asked = set(
        Question.objects.filter(release_id__in=reached).values_list("release_id", "participant_id")
    )
    releases = Release.objects.select_related("challenge__split").in_bulk(list(reached))
    deadline = now + timedelta(hours=challenge.receipt_rules.receipt_deadline_hours)
    posed = []
    for release_id, participants in reached.items():
        for participant_id in sorted(participants):
            if (release_id, participant_id) in asked:
                continue
            for fields in _questions_for(
                releases[release_id], challenge.receipt_rules.receipt_questions
            ):
                posed.append(
                    Question(
                        participant_id=participant_id,
                        release_id=release_id,
                        posted_at=now,
                        deadline=deadline,
                        **fields,
                    )
                )
    Question.objects.bulk_create(posed)
    return len(posed)


def questions_pose_all(*, now: datetime | None = None) -> int:
    challenges = Challenge.objects.filter(
        receipt_rules__receipt_questions__gt=0, published_at__isnull=False
    )
    return sum(questions_pose(challenge=challenge, now=now) for challenge in challenges)


def questions_close(*, now: datetime | None = None) -> int:
    """Open questions whose deadline passed end as missed."""
    now = now or timezone.now()
    return Question.objects.filter(verdict=Verdict.OPEN, deadline__lte=now).update(
        verdict=Verdict.MISSED
    )


def _relative(answer: float, expected: float) -> float:
    return abs(answer - expected) / max(abs(expected), 1e-12)


def judge_answer(question: Question, answer: str) -> str:
    expected = question.expected
    text = answer.strip()
    if isinstance(expected, bool) or not isinstance(expected, int | float):
        if text == str(expected):
            return Verdict.CORRECT
        return Verdict.PARTIAL if text.casefold() == str(expected).casefold() else Verdict.INCORRECT
    try:
        value = float(text.replace(",", ""))
    except ValueError:
        return Verdict.INCORRECT
    if not math.isfinite(value):
        return Verdict.INCORRECT
    if question.kind == QuestionKind.ROW_COUNT:
        off = abs(value - expected)
        return Verdict.CORRECT if off == 0 else Verdict.PARTIAL if off <= 1 else Verdict.INCORRECT
    if value == expected or _relative(value, expected) <= CORRECT_RELATIVE:
        return Verdict.CORRECT
    return Verdict.PARTIAL if _relative(value, expected) <= PARTIAL_RELATIVE else Verdict.INCORRECT


def question_answer(
    *, question_id: int, user_id: int, answer: str, now: datetime | None = None
) -> Question:
    """Record and judge a student's first answer before the deadline; a question
    that is not theirs does not exist (Question.DoesNotExist)."""
    now, text = now or timezone.now(), answer.strip()
    if not text or len(text) > 200:
        raise AnswerRefused("Write the answer as one value of at most 200 characters.")
    with transaction.atomic():
        question = (
            Question.objects.select_for_update()
            .filter(id=question_id, participant__user_id=user_id)
            .first()
        )
        if question is None:
            raise Question.DoesNotExist(f"No question {question_id} of yours.")
        if question.answered_at is None and now <= question.deadline:
            question.answer, question.answered_at = text, now
            question.verdict = judge_answer(question, text)
            question.save(update_fields=["answer", "answered_at", "verdict"])
            return question
        if question.answered_at is None and question.verdict == Verdict.OPEN:
            question.verdict = Verdict.MISSED
            question.save(update_fields=["verdict"])
    if question.answered_at is not None:
        raise AnswerRefused(
            f"You answered this question already ({question.answer!r}, {question.verdict}): "
            "the first answer is final."
        )
    raise AnswerRefused(
        f"The deadline passed at {question.deadline.isoformat()}: answers are closed."
    )
