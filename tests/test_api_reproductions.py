"""Reproductions over the API: the author or the teacher asks for one (202), reads
it back; another student learns nothing (404); a run that is not scored is a 409
saying why; the schema documents both paths."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from judging.models import Reproduction
from tests.factories import ParticipantFactory, SubmissionFactory
from tests.test_api_challenges import token_client

pytestmark = pytest.mark.django_db

JOB = {"kind": "judge", "limits": {"wall_seconds": 10}}


def scored(**fields: object) -> object:
    return SubmissionFactory(
        state="scored", job=JOB, worker="judge@lab-1 pid 7", public_score=0.9, **fields
    )


def test_the_author_asks_for_a_reproduction_and_reads_it() -> None:
    submission = scored()
    client = token_client(submission.participant.user)

    asked = client.post(f"/api/submissions/{submission.pk}/reproduce/")

    assert asked.status_code == 202, asked.json()
    assert asked.json()["state"] == "queued"
    body = client.get(f"/api/reproductions/{asked.json()['id']}/").json()
    assert body["state"] == "queued"
    assert body["original_worker"] == "judge@lab-1 pid 7"
    assert (body["worker"], body["same_worker"], body["max_difference"]) == ("", None, None)
    assert body["tolerance"] == 1e-6
    assert body["scores"] == {}
    assert body["finished_at"] is None
    assert Reproduction.objects.get().requested_by == submission.participant.user.username


def test_a_finished_reproduction_reads_with_its_scores_and_worker() -> None:
    submission = scored()
    reproduction = Reproduction.objects.create(
        submission=submission,
        requested_by="x",
        tolerance=1e-6,
        state="differed",
        original_worker="judge@lab-1 pid 7",
        worker="judge@lab-1 pid 8",
        scores={"public_score": {"original": 0.9, "reproduced": 0.8}},
        max_difference=0.1,
    )

    body = token_client(submission.participant.user).get(f"/api/reproductions/{reproduction.pk}/")

    assert body.json()["same_worker"] is True  # another process of the same worker
    assert body.json()["scores"]["public_score"] == {"original": 0.9, "reproduced": 0.8}
    assert body.json()["max_difference"] == 0.1


def test_the_teacher_may_ask_and_another_student_gets_404() -> None:
    submission = scored()
    teacher = token_client(submission.challenge.owner)
    classmate = token_client(ParticipantFactory(challenge=submission.challenge).user)

    asked = teacher.post(f"/api/submissions/{submission.pk}/reproduce/")

    assert asked.status_code == 202
    assert Reproduction.objects.get().requested_by.startswith("the teacher (")
    assert classmate.post(f"/api/submissions/{submission.pk}/reproduce/").status_code == 404
    read = classmate.get(f"/api/reproductions/{asked.json()['id']}/")
    assert read.status_code == 404
    assert read.json() == {
        "detail": f"No reproduction {asked.json()['id']} of yours.",
        "errors": {},
    }


def test_a_failed_submission_is_a_409_saying_why() -> None:
    submission = SubmissionFactory(state="failed", job=JOB)

    response = token_client(submission.participant.user).post(
        f"/api/submissions/{submission.pk}/reproduce/"
    )

    assert response.status_code == 409
    message = response.json()["errors"]["submission"][0]
    assert "failed: there are no scores to reproduce" in message
    assert response.json()["detail"] == message
    assert not Reproduction.objects.exists()


def test_the_schema_documents_the_reproduction_paths() -> None:
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", "/dev/null")
    schema = token_client(scored().challenge.owner).get("/api/schema/?format=json").json()
    reproduce = schema["paths"]["/api/submissions/{submission_id}/reproduce/"]["post"]
    assert "202" in reproduce["responses"]
    assert "/api/reproductions/{reproduction_id}/" in schema["paths"]
