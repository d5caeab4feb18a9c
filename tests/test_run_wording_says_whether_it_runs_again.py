"""A submission's runs are worded so its author knows whether another run will
come: the platform's failures (a lost worker) are judged again, a bounded number
of times, and say so; the code's own failures (an exception, a limit) are final
and say so. One module words both (judging/run_wording.py)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from judging.models import Submission, SubmissionState
from judging.run_wording import run_status
from judging.services import submission_record_result, submissions_reap
from tests.notifications import failed_result, running_submission

pytestmark = pytest.mark.django_db

FINAL_ERROR = "failed: your code raised an error; it will not be retried"


@pytest.mark.parametrize(
    ("state", "attempts", "kind", "wording"),
    [
        (
            "queued",
            1,
            "",
            "run 1 of at most 3: judged again only if the platform fails it, "
            "never for an error in your code",
        ),
        (
            "running",
            2,
            "",
            "run 2 of at most 3: the platform failed the last run, so it runs again",
        ),
        ("new", 1, "", "run 1 of at most 3: the platform failed it, so it will run again"),
        ("failed", 1, "student_error", FINAL_ERROR),
        ("failed", 1, "memory", "failed: your code went past a limit; it will not be retried"),
        (
            "failed",
            3,
            "lost",
            "failed after 3 runs: the platform could not judge it; it will "
            "not run again by itself (your teacher can have it judged again)",
        ),
        ("scored", 1, "", ""),
        ("scored", 2, "", "scored in run 2 of at most 3"),
        ("cancelled", 1, "cancelled", "cancelled: it will not run"),
        ("new", 0, "", ""),
    ],
)
def test_each_state_says_whether_another_run_comes(
    state: str, attempts: int, kind: str, wording: str
) -> None:
    assert run_status(state=state, attempts=attempts, max_attempts=3, failure_kind=kind) == wording


def _page(submission: Submission) -> str:
    client = Client()
    client.force_login(submission.participant.user)
    return client.get(f"/submissions/{submission.pk}/").text


def test_a_lost_worker_runs_again_and_an_error_in_the_code_does_not() -> None:
    lost, raised = running_submission(), running_submission()
    queued = lost.events.get(state=SubmissionState.QUEUED).message
    assert queued.startswith("run 1 of at most 3: judged again only if the platform fails")
    Submission.objects.filter(id=lost.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )

    submissions_reap()
    submission_record_result(result=failed_result(raised, "fit raised KeyError: 'age'"))

    lost.refresh_from_db()
    assert lost.state == SubmissionState.NEW
    retried = lost.events.order_by("id").last()
    assert retried is not None
    assert retried.message == (
        "run 1 of at most 3: the judge worker (w1) stopped answering, so it will run again"
    )
    assert "the platform failed it, so it will run again" in _page(lost)
    raised.refresh_from_db()
    assert raised.state == SubmissionState.FAILED
    assert FINAL_ERROR in _page(raised)


def test_a_platform_failure_past_its_last_run_says_it_will_not_run_again() -> None:
    submission = running_submission()
    Submission.objects.filter(id=submission.pk).update(
        max_attempts=1, lease_expires_at=timezone.now() - timedelta(seconds=1)
    )

    submissions_reap()

    submission.refresh_from_db()
    assert submission.reason == (
        "the judge worker (w1) stopped answering (gave up after 1 run: it will not run again)"
    )
    assert "failed after 1 run: the platform could not judge it" in _page(submission)


def test_the_api_schema_documents_run_status(teacher_client: Client) -> None:
    schema = teacher_client.get("/api/schema/?format=json").json()
    field = schema["components"]["schemas"]["Submission"]["properties"]["run_status"]
    assert "whether it will run again" in field["description"]
