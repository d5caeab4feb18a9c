"""A student picks up to the challenge's final_selections scored submissions for
the final ranking: one more is refused with a message naming the limit and how to
free a pick; unselecting frees one; picks are final at the close."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from challenges.models import Participant
from judging.models import Submission, SubmissionState
from judging.picks import submission_select, submission_unselect
from tests.factories import SubmissionFactory
from tests.submissions import participants, published_challenge
from tests.test_api_challenges import token_client
from worker_wing.pipeline.code_check import SubmissionRejected

pytestmark = pytest.mark.django_db


def scored(participant: Participant, score: float = 0.8) -> Submission:
    return SubmissionFactory(
        participant=participant,
        state=SubmissionState.SCORED,
        public_score=score,
        private_score=score,
    )


def test_up_to_n_picks_and_the_next_is_refused_naming_n() -> None:
    (ada,) = participants(published_challenge(final_selections=2), 1)
    first, second, third = scored(ada), scored(ada), scored(ada)

    submission_select(submission=first)
    submission_select(submission=second)
    with pytest.raises(SubmissionRejected) as refused:
        submission_select(submission=third)

    message = str(refused.value)
    assert "already selected 2 submissions" in message
    assert f"#{first.pk}, #{second.pk}" in message
    assert "Unselect one of them first to free a pick" in message
    assert set(Submission.objects.filter(selected=True)) == {first, second}


def test_unselecting_frees_a_pick() -> None:
    (ada,) = participants(published_challenge(), 1)  # one pick, the default
    first, second = scored(ada), scored(ada)
    submission_select(submission=first)
    with pytest.raises(SubmissionRejected, match="Unselect it first"):
        submission_select(submission=second)

    assert submission_unselect(submission=first) is True
    submission_select(submission=second)

    assert list(Submission.objects.filter(selected=True)) == [second]
    assert submission_unselect(submission=first) is False  # not picked: nothing to do
    messages = list(first.events.values_list("message", flat=True))
    assert messages == ["selected for the final ranking", "unselected for the final ranking"]


def test_only_scored_submissions_can_be_picked() -> None:
    (ada,) = participants(published_challenge(), 1)
    failed = SubmissionFactory(participant=ada, state=SubmissionState.FAILED)
    with pytest.raises(SubmissionRejected, match="Only a scored submission"):
        submission_select(submission=failed)
    assert not Submission.objects.filter(selected=True).exists()


def test_picks_are_final_once_the_challenge_has_closed() -> None:
    challenge = published_challenge()
    (ada,) = participants(challenge, 1)
    picked, other = scored(ada), scored(ada)
    submission_select(submission=picked)
    challenge.opens_at = timezone.now() - timedelta(days=3)
    challenge.closes_at = timezone.now() - timedelta(seconds=1)
    challenge.save()

    with pytest.raises(SubmissionRejected, match="are final"):
        submission_unselect(submission=picked)
    with pytest.raises(SubmissionRejected, match="are final"):
        submission_select(submission=other)


def test_the_api_selects_unselects_and_refuses_with_the_message() -> None:
    (ada,) = participants(published_challenge(), 1)
    first, second = scored(ada), scored(ada)
    client = token_client(ada.user)

    assert client.post(f"/api/submissions/{first.pk}/select/").json()["selected"] is True
    refused = client.post(f"/api/submissions/{second.pk}/select/")
    assert refused.status_code == 400
    assert "already selected 1 submission" in refused.json()["errors"]["submission"][0]
    unselected = client.post(f"/api/submissions/{first.pk}/unselect/")
    assert unselected.status_code == 200
    assert unselected.json()["selected"] is False
    detail = client.get(f"/api/submissions/{first.pk}/").json()
    assert (detail["selected"], detail["promoted"]) == (False, False)


def test_the_challenge_page_shows_picks_and_offers_unselect() -> None:
    challenge = published_challenge(final_selections=3)
    (ada,) = participants(challenge, 1)
    picked, other = scored(ada), scored(ada)
    client = Client()
    client.force_login(ada.user)

    client.post(f"/submissions/{picked.pk}/select/")
    page = client.get(f"/challenges/{challenge.slug}/").content.decode()

    assert "1 of 3 picks used" in page
    assert f'action="/submissions/{picked.pk}/unselect/"' in page
    assert f'action="/submissions/{other.pk}/select/"' in page
    client.post(f"/submissions/{picked.pk}/unselect/")
    assert "0 of 3 picks used" in client.get(f"/challenges/{challenge.slug}/").content.decode()
