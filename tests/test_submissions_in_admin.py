"""Teachers see the submissions of their own challenges in the admin, with the
code, the logs and the timeline, and can judge again or cancel."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from judging.models import SubmissionState
from tests.factories import ChallengeFactory, ParticipantFactory, SubmissionFactory
from tests.submissions import participants, published_challenge, upload

pytestmark = pytest.mark.django_db


def test_the_change_list_holds_only_the_teachers_own_challenges(
    teacher: object, teacher_client: Client
) -> None:
    mine = upload(participants(published_challenge(owner=teacher), 1)[0])
    theirs = upload(participants(published_challenge(), 1)[0])

    response = teacher_client.get(reverse("admin:judging_submission_changelist"))

    shown = {row.pk for row in response.context["cl"].result_list}
    assert shown == {mine.pk}
    other = teacher_client.get(reverse("admin:judging_submission_change", args=[theirs.pk]))
    assert other.status_code == 302  # the admin's "does not exist" redirect


def test_the_submission_page_shows_the_code_and_the_stderr_tail(
    teacher: object, teacher_client: Client
) -> None:
    submission = upload(participants(published_challenge(owner=teacher), 1)[0])
    submission.stderr_tail = "Traceback: ValueError <boom>"
    submission.save()

    page = teacher_client.get(reverse("admin:judging_submission_change", args=[submission.pk]))

    html = page.content.decode()
    assert "def get_estimator():" in html
    assert "Traceback: ValueError &lt;boom&gt;" in html


def test_cancel_action_ends_a_waiting_submission_with_the_reason(
    teacher: object, teacher_client: Client
) -> None:
    submission = upload(participants(published_challenge(owner=teacher), 1)[0])

    teacher_client.post(
        reverse("admin:judging_submission_changelist"),
        {"action": "cancel_selected", "_selected_action": [submission.pk]},
    )

    submission.refresh_from_db()
    assert (submission.state, submission.reason) == (
        SubmissionState.CANCELLED,
        "Cancelled by the teacher.",
    )


def test_rejudge_all_sends_ended_submissions_back_to_waiting(
    teacher: object, teacher_client: Client
) -> None:
    challenge = ChallengeFactory(owner=teacher)
    participant = ParticipantFactory(challenge=challenge)
    failed = SubmissionFactory(participant=participant, state=SubmissionState.FAILED, reason="x")

    teacher_client.post(
        reverse("admin:challenges_challenge_changelist"),
        {"action": "rejudge_selected", "_selected_action": [challenge.pk]},
    )

    failed.refresh_from_db()
    assert (failed.state, failed.reason) == (SubmissionState.NEW, "")
