"""Students' pages with Django's test client: who sees what, and what stays hidden."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from judging.models import SubmissionState
from tests.factories import SubmissionFactory, TeacherFactory
from tests.submissions import participants, published_challenge

pytestmark = pytest.mark.django_db


def logged_in(user: object) -> Client:
    client = Client()
    client.force_login(user)  # type: ignore[arg-type]
    return client


def test_pages_need_a_login() -> None:
    challenge = published_challenge()
    response = Client().get(f"/challenges/{challenge.slug}/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_a_student_sees_only_their_own_submission_pages() -> None:
    challenge = published_challenge()
    ada, grace = participants(challenge, 2)
    theirs = SubmissionFactory(participant=grace, state=SubmissionState.FAILED, reason="boom")
    client = logged_in(ada.user)
    assert client.get(f"/submissions/{theirs.pk}/").status_code == 404
    assert client.post(f"/submissions/{theirs.pk}/cancel/").status_code == 404
    page = client.get(f"/challenges/{challenge.slug}/").content.decode()
    assert "boom" not in page
    assert logged_in(grace.user).get(f"/submissions/{theirs.pk}/").status_code == 200
    assert logged_in(challenge.owner).get(f"/submissions/{theirs.pk}/").status_code == 200
    assert logged_in(TeacherFactory()).get(f"/submissions/{theirs.pk}/").status_code == 404


def test_the_failure_reason_and_stderr_are_shown_to_the_author() -> None:
    challenge = published_challenge()
    (ada,) = participants(challenge, 1)
    failed = SubmissionFactory(
        participant=ada,
        state=SubmissionState.FAILED,
        reason="fit raised ValueError: the student's own bug",
        stderr_tail="Traceback (most recent call last):\nValueError: the student's own bug",
    )
    page = logged_in(ada.user).get(f"/submissions/{failed.pk}/").content.decode()
    assert "fit raised ValueError: the student&#x27;s own bug" in page
    assert "Traceback (most recent call last)" in page


def test_private_scores_appear_on_pages_only_after_the_close() -> None:
    challenge = published_challenge()
    (ada,) = participants(challenge, 1)
    scored = SubmissionFactory(
        participant=ada, state=SubmissionState.SCORED, public_score=0.9111, private_score=0.7333
    )
    client = logged_in(ada.user)
    for path in (f"/submissions/{scored.pk}/", f"/challenges/{challenge.slug}/leaderboard/"):
        assert "0.7333" not in client.get(path).content.decode()
    challenge.opens_at = timezone.now() - timedelta(days=2)
    challenge.closes_at = timezone.now() - timedelta(seconds=1)
    challenge.save()
    for path in (f"/submissions/{scored.pk}/", f"/challenges/{challenge.slug}/leaderboard/"):
        assert "0.7333" in client.get(path).content.decode()


def test_the_leaderboard_headers_sort_and_reverse() -> None:
    challenge = published_challenge()
    ada, grace = participants(challenge, 2)
    SubmissionFactory(
        participant=ada, state=SubmissionState.SCORED, public_score=0.9, cpu_seconds=9.0
    )
    SubmissionFactory(
        participant=grace, state=SubmissionState.SCORED, public_score=0.5, cpu_seconds=1.0
    )
    client = logged_in(ada.user)
    page = client.get(
        f"/challenges/{challenge.slug}/leaderboard/?order=cpu_seconds"
    ).content.decode()
    body = page[page.index("<tbody>") :]
    assert body.index(grace.user.username) < body.index(ada.user.username)
    assert 'href="?order=-cpu_seconds"' in page
    page = client.get(
        f"/challenges/{challenge.slug}/leaderboard/?order=-cpu_seconds"
    ).content.decode()
    body = page[page.index("<tbody>") :]
    assert body.index(ada.user.username) < body.index(grace.user.username)


def test_the_api_docs_page_needs_no_cdn() -> None:
    page = logged_in(TeacherFactory()).get("/api/docs/").content.decode()
    assert "drf_spectacular_sidecar" in page
    assert "cdn" not in page.lower()
