"""Teachers reproduce submissions from the admin's action, and read the
reproductions on the submission's page; a run that is not scored is refused
with the reason."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from judging.models import Reproduction
from tests.factories import ChallengeFactory, ParticipantFactory, SubmissionFactory

pytestmark = pytest.mark.django_db

JOB = {"kind": "judge", "limits": {"wall_seconds": 10}}


def test_the_action_reproduces_scored_runs_and_says_why_it_refuses_others(
    teacher: object, teacher_client: Client
) -> None:
    participant = ParticipantFactory(challenge=ChallengeFactory(owner=teacher))
    good = SubmissionFactory(participant=participant, state="scored", job=JOB)
    bad = SubmissionFactory(participant=participant, state="failed", job=JOB)
    theirs = SubmissionFactory(state="scored", job=JOB)

    page = teacher_client.post(
        reverse("admin:judging_submission_changelist"),
        {"action": "reproduce", "_selected_action": [good.pk, bad.pk, theirs.pk]},
        follow=True,
    )

    assert [r.submission_id for r in Reproduction.objects.all()] == [good.pk]
    html = page.content.decode()
    assert "1 reproduction(s) requested" in html
    assert f"Submission {bad.pk} failed: there are no scores to reproduce" in html


def test_the_submission_page_lists_its_reproductions(
    teacher: object, teacher_client: Client
) -> None:
    participant = ParticipantFactory(challenge=ChallengeFactory(owner=teacher))
    submission = SubmissionFactory(participant=participant, state="scored", job=JOB)
    Reproduction.objects.create(
        submission=submission,
        requested_by="x",
        tolerance=1e-6,
        state="differed",
        original_worker="judge@lab-1 pid 7",
        worker="judge@lab-2 pid 3",
        max_difference=0.0333,
        reason="",
    )

    page = teacher_client.get(reverse("admin:judging_submission_change", args=[submission.pk]))

    html = page.content.decode()
    assert "Reproductions (the recorded job run again, on another worker)" in html
    assert "judge@lab-2 pid 3" in html
    assert "0.0333" in html
    assert "Differed" in html  # the state, as its label
