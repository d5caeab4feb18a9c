"""Submissions over the REST API: upload with the reason of a refusal, a student's
own submissions only, private scores hidden until the close, cancel and select."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from judging.models import Submission, SubmissionState
from tests.factories import SubmissionFactory, TeacherFactory
from tests.submissions import LOGISTIC_REGRESSION, participants, published_challenge
from tests.test_api_challenges import token_client

pytestmark = pytest.mark.django_db


def estimator(code: bytes = LOGISTIC_REGRESSION) -> SimpleUploadedFile:
    return SimpleUploadedFile("estimator.py", code, "text/x-python")


def test_a_participant_submits_and_reads_the_state() -> None:
    challenge = published_challenge()
    (ada,) = participants(challenge, 1)
    client = token_client(ada.user)

    response = client.post(
        f"/api/challenges/{challenge.slug}/submissions/", {"file": estimator()}, format="multipart"
    )

    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["state"] == "new"
    submission = Submission.objects.get(pk=body["id"])
    assert submission.participant == ada
    listed = client.get("/api/submissions/").json()
    assert [row["id"] for row in listed] == [submission.pk]
    detail = client.get(f"/api/submissions/{submission.pk}/").json()
    assert detail["challenge"] == challenge.slug
    assert detail["events"][0]["state"] == "new"
    code = client.get(f"/api/submissions/{submission.pk}/code/").json()
    assert code["code"] == LOGISTIC_REGRESSION.decode()


def test_a_syntax_error_is_refused_with_the_line() -> None:
    challenge = published_challenge()
    (ada,) = participants(challenge, 1)
    response = token_client(ada.user).post(
        f"/api/challenges/{challenge.slug}/submissions/",
        {"file": estimator(b"def get_estimator(:\n    pass\n")},
        format="multipart",
    )
    assert response.status_code == 400
    message = response.json()["errors"]["file"][0]
    assert "line 1" in message
    assert not Submission.objects.exists()


def test_an_oversized_file_is_refused_without_being_read_whole(settings: object) -> None:
    settings.PPIPE_MAX_SUBMISSION_KB = 1  # type: ignore[attr-defined]
    challenge = published_challenge()
    (ada,) = participants(challenge, 1)
    response = token_client(ada.user).post(
        f"/api/challenges/{challenge.slug}/submissions/",
        {"file": estimator(b"x = 1\n" * 100_000)},
        format="multipart",
    )
    assert response.status_code == 400
    assert "at most 1 KB" in response.json()["errors"]["file"][0]


def test_someone_not_taking_part_is_told_to_join() -> None:
    challenge = published_challenge(join_code="owls")
    teacher_client = token_client(TeacherFactory())
    response = teacher_client.post(
        f"/api/challenges/{challenge.slug}/submissions/", {"file": estimator()}, format="multipart"
    )
    assert response.status_code == 403
    assert "join it first" in response.json()["detail"]


def test_a_student_never_reads_anothers_submission() -> None:
    challenge = published_challenge()
    ada, grace = participants(challenge, 2)
    theirs = SubmissionFactory(participant=grace, state=SubmissionState.SCORED)
    client = token_client(ada.user)
    for path in ("", "code/"):
        response = client.get(f"/api/submissions/{theirs.pk}/{path}")
        assert response.status_code == 404
    assert client.post(f"/api/submissions/{theirs.pk}/cancel/").status_code == 404
    assert client.get("/api/submissions/").json() == []
    # Its teacher may.
    assert token_client(challenge.owner).get(f"/api/submissions/{theirs.pk}/").status_code == 200


def test_private_scores_stay_hidden_until_the_close() -> None:
    challenge = published_challenge()
    (ada,) = participants(challenge, 1)
    scored = SubmissionFactory(
        participant=ada, state=SubmissionState.SCORED, public_score=0.9, private_score=0.8123457
    )
    client = token_client(ada.user)
    assert client.get(f"/api/submissions/{scored.pk}/").json()["private_score"] is None
    board = client.get(f"/api/challenges/{challenge.slug}/leaderboard/").json()
    assert board["final"] is False
    assert board["rows"][0]["private_score"] is None
    # A figure no timestamp or other score of the answer could contain by chance.
    assert "0.8123457" not in str(board)

    challenge.opens_at = timezone.now() - timedelta(days=3)
    challenge.closes_at = timezone.now() - timedelta(seconds=1)
    challenge.save()

    assert client.get(f"/api/submissions/{scored.pk}/").json()["private_score"] == 0.8123457
    board = client.get(f"/api/challenges/{challenge.slug}/leaderboard/").json()
    assert board["final"] is True
    assert board["rows"][0]["private_score"] == 0.8123457


def test_cancel_and_select() -> None:
    challenge = published_challenge()
    (ada,) = participants(challenge, 1)
    waiting = SubmissionFactory(participant=ada, state=SubmissionState.QUEUED)
    scored = SubmissionFactory(participant=ada, state=SubmissionState.SCORED, public_score=0.5)
    client = token_client(ada.user)

    cancelled = client.post(f"/api/submissions/{waiting.pk}/cancel/")
    assert cancelled.status_code == 200
    assert cancelled.json()["state"] == "cancelled"
    assert cancelled.json()["reason"] == "Cancelled by its author."
    again = client.post(f"/api/submissions/{waiting.pk}/cancel/")
    assert again.status_code == 400
    assert "already ended" in again.json()["detail"]

    refused = client.post(f"/api/submissions/{waiting.pk}/select/")
    assert refused.status_code == 400
    assert "Only a scored submission" in refused.json()["detail"]
    chosen = client.post(f"/api/submissions/{scored.pk}/select/")
    assert chosen.json()["selected"] is True


def test_the_schema_documents_every_path_without_warnings() -> None:
    from django.core.management import call_command

    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")
    schema = token_client(TeacherFactory()).get("/api/schema/?format=json").json()
    for path in (
        "/api/auth/token/",
        "/api/challenges/{slug}/submissions/",
        "/api/submissions/{submission_id}/cancel/",
        "/api/challenges/{slug}/leaderboard/",
    ):
        assert path in schema["paths"]
