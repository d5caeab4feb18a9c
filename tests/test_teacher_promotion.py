"""A teacher promotes a run to the final ranking from the admin (their own
challenges' only): it counts beyond the student's picks, the timeline says who
did it, and the promotion can be withdrawn."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from judging.models import Submission, SubmissionState
from judging.picks import submission_select
from tests.factories import SubmissionFactory
from tests.submissions import participants, published_challenge

pytestmark = pytest.mark.django_db


def scored(participant: object) -> Submission:
    return SubmissionFactory(
        participant=participant, state=SubmissionState.SCORED, public_score=0.7
    )


def admin_action(client: Client, action: str, *submissions: Submission) -> None:
    client.post(
        reverse("admin:judging_submission_changelist"),
        {"action": action, "_selected_action": [row.pk for row in submissions]},
    )


def test_a_promotion_counts_beyond_the_picks_and_shows_on_the_timeline(
    teacher: object, teacher_client: Client
) -> None:
    (ada,) = participants(published_challenge(owner=teacher), 1)  # one pick
    promoted, picked = scored(ada), scored(ada)

    admin_action(teacher_client, "promote", promoted)
    submission_select(submission=picked)  # the promotion did not use up her pick

    promoted.refresh_from_db()
    assert promoted.promoted
    assert not promoted.selected
    event = promoted.events.get()
    assert event.message == f"promoted to the final ranking by the teacher ({teacher})"
    page = teacher_client.get(reverse("admin:judging_submission_change", args=[promoted.pk]))
    assert "promoted to the final ranking by the teacher" in page.content.decode()


def test_withdrawing_a_promotion_is_recorded_too(teacher: object, teacher_client: Client) -> None:
    (ada,) = participants(published_challenge(owner=teacher), 1)
    submission = scored(ada)
    admin_action(teacher_client, "promote", submission)

    admin_action(teacher_client, "withdraw_promotion", submission)

    submission.refresh_from_db()
    assert not submission.promoted
    assert list(submission.events.values_list("message", flat=True))[-1] == (
        f"promotion withdrawn by the teacher ({teacher})"
    )


def test_only_scored_submissions_of_the_teachers_own_challenges_are_promoted(
    teacher: object, teacher_client: Client
) -> None:
    (ada,) = participants(published_challenge(owner=teacher), 1)
    (grace,) = participants(published_challenge(), 1)
    failed = SubmissionFactory(participant=ada, state=SubmissionState.FAILED)
    theirs = scored(grace)

    admin_action(teacher_client, "promote", failed, theirs)

    assert not Submission.objects.filter(promoted=True).exists()
