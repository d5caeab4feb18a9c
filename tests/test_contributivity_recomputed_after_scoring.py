"""Contributivity follows the scored results: recording one marks the challenge
stale and schedules one computation for a burst of results; a new submission
scored later is blended in by the next computation; a result recorded during a
computation leaves the challenge stale and schedules the next; beat's tick sends
what is overdue."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import numpy as np
import pytest
from django.utils import timezone

from judging import contributivity
from judging.contributivity import (
    COMPUTED,
    FRESH,
    contributivity_compute,
    contributivity_mark_stale,
    contributivity_refresh,
)
from judging.models import ChallengeBlend, Submission
from judging.services import submission_mark_started, submission_record_result, submissions_feed
from tests.contributivity import run_fields, training_labels, with_errors
from tests.submissions import RecordingSender, participants, published_challenge, upload

pytestmark = pytest.mark.django_db


def running(count: int) -> list[Submission]:
    challenge = published_challenge()
    uploaded = [upload(someone) for someone in participants(challenge, count)]
    submissions_feed(send=RecordingSender())
    for submission in uploaded:
        assert submission_mark_started(submission_id=submission.pk, attempt=1, worker="w1")
        submission.refresh_from_db()
    return uploaded


def result(submission: Submission, oof: np.ndarray) -> dict[str, Any]:
    split = submission.challenge.split
    return {
        "submission_id": submission.pk,
        "attempt": 1,
        "ok": True,
        "test_predictions": ["setosa"] * (split.public_test_rows + split.private_test_rows),
        "folds": [],
        **run_fields(submission.challenge, oof, 0.9),
    }


def scheduled(callbacks: list[Callable[[], None]]) -> list[Any]:
    return [c for c in callbacks if getattr(c, "func", None) is contributivity._compute_soon]


def test_a_burst_of_results_schedules_one_computation(
    django_capture_on_commit_callbacks: Any,
) -> None:
    submissions = running(3)
    y, _ = training_labels(submissions[0].challenge)

    with django_capture_on_commit_callbacks() as callbacks:
        for submission in submissions:
            submission_record_result(result=result(submission, y))

    assert len(scheduled(callbacks)) == 1
    blend = ChallengeBlend.objects.get(challenge=submissions[0].challenge)
    assert (blend.version, blend.computed_version) == (3, 0)


def test_a_submission_scored_later_is_blended_in_by_the_next_computation(
    django_capture_on_commit_callbacks: Any,
) -> None:
    first, second, later = running(3)
    challenge = first.challenge
    y, _ = training_labels(challenge)
    rows = np.arange(len(y))
    oofs = [with_errors(y, rows[rows % 5 == k]) for k in range(3)]
    for submission, oof in ((first, oofs[0]), (second, oofs[1])):
        submission_record_result(result=result(submission, oof))
    assert contributivity_compute(challenge_id=challenge.pk) == COMPUTED
    before = dict(Submission.objects.values_list("id", "contributivity"))
    assert before[later.pk] is None
    assert before[first.pk] + before[second.pk] == pytest.approx(100.0)

    with django_capture_on_commit_callbacks() as callbacks:
        submission_record_result(result=result(later, oofs[2]))
    assert len(scheduled(callbacks)) == 1
    assert contributivity_compute(challenge_id=challenge.pk) == COMPUTED

    after = dict(Submission.objects.values_list("id", "contributivity"))
    # Three voters, each wrong on rows where the other two are right: all needed.
    assert all(after[row.pk] > 0 for row in (first, second, later))
    assert sum(after.values()) == pytest.approx(100.0)
    assert contributivity_compute(challenge_id=challenge.pk) == FRESH


def test_a_result_recorded_during_a_computation_leaves_it_stale(
    monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Any
) -> None:
    (first,) = running(1)
    y, _ = training_labels(first.challenge)
    submission_record_result(result=result(first, y))
    compute = contributivity._blended

    def blended_while_a_result_arrives(challenge: Any) -> Any:
        contributivity_mark_stale(challenge_id=challenge.pk)
        return compute(challenge)

    monkeypatch.setattr(contributivity, "_blended", blended_while_a_result_arrives)
    with django_capture_on_commit_callbacks() as callbacks:
        assert contributivity_compute(challenge_id=first.challenge_id) == COMPUTED

    blend = ChallengeBlend.objects.get(challenge=first.challenge)
    assert blend.version == blend.computed_version + 1
    assert blend.stale_since is not None
    assert len(scheduled(callbacks)) == 1


def test_beats_tick_sends_only_overdue_computations_whose_claim_is_free(
    monkeypatch: pytest.MonkeyPatch, settings: Any
) -> None:
    settings.PPIPE_CONTRIBUTIVITY_DELAY_SECONDS = 30
    sent: list[int] = []
    monkeypatch.setattr(contributivity, "_compute_soon", lambda pk, countdown: sent.append(pk))
    now = timezone.now()
    overdue, recent, claimed, fresh = (published_challenge() for _ in range(4))
    for challenge in (overdue, recent, claimed, fresh):
        contributivity_mark_stale(challenge_id=challenge.pk, now=now - timedelta(minutes=5))
    ChallengeBlend.objects.filter(challenge=recent).update(stale_since=now)
    ChallengeBlend.objects.filter(challenge=claimed).update(
        lease_expires_at=now + timedelta(minutes=1)
    )
    ChallengeBlend.objects.filter(challenge=fresh).update(computed_version=1)

    assert contributivity_refresh(now=now) == 1
    assert sent == [overdue.pk]
