"""Proof of receipt: questions about each release a student received, answered
from the very file ppipe delivered, judged with a tolerance, once, before a
deadline, and shown on the leaderboard."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from challenges.models import Challenge
from dispatch.models import Transaction, TransactionState
from judging.leaderboard import leaderboard
from receipts.models import Question, QuestionKind, Verdict
from receipts.services import judge_answer, questions_close, questions_pose
from tests.factories import DestinationFactory, ParticipantFactory
from tests.receipt_answers import answer_from, deliver_release
from tests.release_jobs import read_release
from tests.release_platform import publish_with_releases
from tests.test_api_challenges import token_client

pytestmark = pytest.mark.django_db


def _challenge(tmp_path: Path, fmt: str = "csv", **fields: Any) -> Challenge:
    from tests.factories import ChallengeFactory

    challenge = ChallengeFactory(receipt_questions=4, release_format=fmt, **fields)
    folder = DestinationFactory(owner=challenge.owner, path=str(tmp_path / "share"))
    publish_with_releases(challenge, [folder], releases="3", delay=0)
    return challenge


@pytest.mark.parametrize("fmt", ["csv", "jsonl"])
def test_answers_read_from_the_delivered_file_are_correct(tmp_path: Path, fmt: str) -> None:
    challenge = _challenge(tmp_path, fmt)
    ada = ParticipantFactory(challenge=challenge)
    (path,) = deliver_release(challenge, 2)
    received = read_release(path, fmt)
    client = token_client(ada.user)

    questions = client.get(f"/api/challenges/{challenge.slug}/questions/").json()

    assert len(questions) == 4
    assert {q["release"] for q in questions} == {2}
    assert all("expected" not in q and q["verdict"] == "open" for q in questions)
    assert all(path.name in q["prompt"] for q in questions)
    for question in questions:
        verdict = client.post(
            f"/api/questions/{question['id']}/answer/",
            {"answer": answer_from(received, question)},
            format="json",
        )
        assert verdict.status_code == 200, verdict.json()
        assert verdict.json()["verdict"] == "correct", (question, verdict.json())


def test_questions_are_posed_once_per_release_and_student(tmp_path: Path) -> None:
    challenge = _challenge(tmp_path)
    ParticipantFactory(challenge=challenge)
    ParticipantFactory(challenge=challenge)

    assert questions_pose(challenge=challenge) == 0  # nothing delivered yet
    deliver_release(challenge, 1)
    assert questions_pose(challenge=challenge) == 8
    assert questions_pose(challenge=challenge) == 0
    deliver_release(challenge, 2)
    assert questions_pose(challenge=challenge) == 8
    kinds = Question.objects.filter(release__sequence=1).values_list("kind", flat=True)
    assert list(kinds).count(QuestionKind.ROW_COUNT) <= 2  # at most one per student


def test_a_release_to_one_students_folder_questions_only_that_student(tmp_path: Path) -> None:
    from tests.factories import ChallengeFactory

    challenge = ChallengeFactory(receipt_questions=2, release_per_participant=True)
    ada, grace = (ParticipantFactory(challenge=challenge) for _ in range(2))
    folder = DestinationFactory(owner=challenge.owner, path=str(tmp_path / "share"))
    publish_with_releases(challenge, [folder], releases="2", delay=0)
    ada_first = Transaction.objects.get(release__sequence=1, participant=ada)
    Transaction.objects.filter(id=ada_first.id).update(
        state=TransactionState.DONE, finished_at=timezone.now()
    )

    questions_pose(challenge=challenge)

    assert set(Question.objects.values_list("participant_id", flat=True)) == {ada.id}
    assert not Question.objects.filter(participant=grace).exists()


def _question(kind: str, expected: Any) -> Question:
    return Question(kind=kind, expected=expected)


@pytest.mark.parametrize(
    ("kind", "expected", "answer", "verdict"),
    [
        ("row_count", 40, "40", "correct"),
        ("row_count", 40, "41", "partial"),  # the header counted
        ("row_count", 40, "44", "incorrect"),
        ("column_sum", 5843.299999999999, "5843.3", "correct"),
        ("column_sum", 5843.3, "5,843.3", "correct"),
        ("column_sum", 5843.3, "5830", "partial"),
        ("column_sum", 5843.3, "5000", "incorrect"),
        ("column_sum", 5843.3, "nan", "incorrect"),
        ("column_sum", 5843.3, "about six thousand", "incorrect"),
        ("cell", 0, "0.0", "correct"),
        ("cell", "virginica", " virginica ", "correct"),
        ("cell", "virginica", "Virginica", "partial"),
        ("cell", "virginica", "setosa", "incorrect"),
    ],
)
def test_answers_are_judged_with_a_tolerance(
    kind: str, expected: Any, answer: str, verdict: str
) -> None:
    assert judge_answer(_question(kind, expected), answer) == verdict


def test_the_first_answer_is_final(tmp_path: Path) -> None:
    challenge = _challenge(tmp_path)
    ada = ParticipantFactory(challenge=challenge)
    deliver_release(challenge, 1)
    client = token_client(ada.user)
    question = client.get(f"/api/challenges/{challenge.slug}/questions/").json()[0]

    first = client.post(f"/api/questions/{question['id']}/answer/", {"answer": "-1"}, format="json")
    second = client.post(f"/api/questions/{question['id']}/answer/", {"answer": "7"}, format="json")

    assert first.status_code == 200
    assert first.json()["verdict"] == "incorrect"
    assert second.status_code == 400
    assert "the first answer is final" in second.json()["errors"]["answer"][0]
    assert Question.objects.get(id=question["id"]).answer == "-1"


def test_the_deadline_is_enforced(tmp_path: Path) -> None:
    challenge = _challenge(tmp_path)
    ada = ParticipantFactory(challenge=challenge)
    deliver_release(challenge, 1)
    questions_pose(challenge=challenge)
    late, missed = Question.objects.filter(participant=ada)[:2]
    Question.objects.filter(id__in=[late.id, missed.id]).update(
        deadline=timezone.now() - timedelta(minutes=1)
    )

    response = token_client(ada.user).post(
        f"/api/questions/{late.id}/answer/", {"answer": "3"}, format="json"
    )

    assert response.status_code == 400
    assert "The deadline passed" in response.json()["detail"]
    assert questions_close() == 1  # the other one; the late answer's is closed already
    late.refresh_from_db()
    missed.refresh_from_db()
    assert (late.verdict, missed.verdict) == (Verdict.MISSED, Verdict.MISSED)
    assert late.answer == ""


def test_another_students_question_is_not_found(tmp_path: Path) -> None:
    challenge = _challenge(tmp_path)
    ada, grace = (ParticipantFactory(challenge=challenge) for _ in range(2))
    deliver_release(challenge, 1)
    questions_pose(challenge=challenge)
    adas = Question.objects.filter(participant=ada).first()
    assert adas is not None

    response = token_client(grace.user).post(
        f"/api/questions/{adas.id}/answer/", {"answer": "3"}, format="json"
    )

    assert response.status_code == 404
    assert Question.objects.get(id=adas.id).verdict == Verdict.OPEN


def test_the_leaderboard_shows_the_receipt_score(tmp_path: Path) -> None:
    challenge = _challenge(tmp_path)
    ada, grace = (ParticipantFactory(challenge=challenge) for _ in range(2))
    deliver_release(challenge, 1)
    questions_pose(challenge=challenge)
    verdicts = [Verdict.CORRECT, Verdict.CORRECT, Verdict.PARTIAL, Verdict.MISSED]
    for question, verdict in zip(Question.objects.filter(participant=ada), verdicts, strict=True):
        Question.objects.filter(id=question.id).update(verdict=verdict)
    Question.objects.filter(participant=grace).update(verdict=Verdict.INCORRECT)

    board = leaderboard(challenge)

    scores = {row.participant: row.receipt_score for row in board.rows}
    assert board.has_receipts
    assert scores == {ada.user.username: 2.5 / 4, grace.user.username: 0.0}
