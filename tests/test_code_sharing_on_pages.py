"""The collaborative phase on the students' pages and the leaderboard: another's
code and scores are nowhere before the code sharing date, the shared page and
"Build on this" after it, and the leaderboard's lineage and credit change with the
date however recently the leaderboard was cached."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from judging.models import Submission, SubmissionState
from judging.sharing import FORK_CREDIT_SHARE, fork_credit
from teams.services import team_create, team_join
from tests.factories import SubmissionFactory
from tests.submissions import LOGISTIC_REGRESSION, participants, published_challenge
from tests.test_api_challenges import token_client
from tests.test_code_sharing_over_the_api import scored, share_code
from tests.test_student_pages import logged_in

pytestmark = pytest.mark.django_db


def test_the_shared_page_and_build_on_this_only_from_the_date() -> None:
    challenge = published_challenge()
    ada, grace = participants(challenge, 2)
    theirs = scored(ada, LOGISTIC_REGRESSION + b"# ada's secret sauce\n")
    client = logged_in(grace.user)

    share_code(challenge, hours_from_now=1)
    assert client.get(f"/submissions/{theirs.pk}/").status_code == 404
    assert client.post(f"/submissions/{theirs.pk}/fork/").status_code == 404
    early = client.get(f"/challenges/{challenge.slug}/shared/").content.decode()
    assert "will be shared" in early
    assert "secret sauce" not in early
    assert f"#{theirs.pk}" not in early

    share_code(challenge, hours_from_now=-1)
    listed = client.get(f"/challenges/{challenge.slug}/shared/").content.decode()
    assert f'<tr data-submission="{theirs.pk}">' in listed
    assert ada.user.username in listed
    page = client.get(f"/submissions/{theirs.pk}/").content.decode()
    assert "secret sauce" in page
    assert 'id="build-on"' in page
    assert "ada's own prints" not in page  # not their logs

    response = client.post(f"/submissions/{theirs.pk}/fork/")
    assert response.status_code == 302
    fork = Submission.objects.get(participant=grace)
    assert fork.parent == theirs
    own = client.get(f"/submissions/{fork.pk}/").content.decode()
    assert (
        f'Built on <a href="/submissions/{theirs.pk}/">#{theirs.pk}</a> by {ada.user.username}'
        in own
    )


def test_an_edited_upload_from_the_page_records_its_parent() -> None:
    challenge = published_challenge()
    ada, grace = participants(challenge, 2)
    theirs = scored(ada)
    client = logged_in(grace.user)
    # A challenge that never shares code asks for no parent.
    assert 'name="parent"' not in client.get(f"/challenges/{challenge.slug}/").content.decode()
    share_code(challenge, hours_from_now=-1)
    form = client.get(f"/challenges/{challenge.slug}/?parent={theirs.pk}").content.decode()
    assert f'name="parent" value="{theirs.pk}"' in form

    upload = SimpleUploadedFile("estimator.py", LOGISTIC_REGRESSION + b"# mine now\n")
    response = client.post(f"/challenges/{challenge.slug}/", {"file": upload, "parent": theirs.pk})
    assert response.status_code == 302
    assert Submission.objects.get(participant=grace).parent == theirs


def test_the_leaderboard_shows_lineage_and_credit_only_once_shared(settings: Any) -> None:
    settings.PPIPE_LEADERBOARD_CACHE_SECONDS = 60
    challenge = published_challenge()
    ada, grace = participants(challenge, 2)
    parent = scored(ada)
    fork = SubmissionFactory(
        participant=grace,
        parent=parent,
        state=SubmissionState.SCORED,
        public_score=0.95,
        contributivity=30.0,
    )
    client = logged_in(grace.user)
    api = token_client(grace.user)
    board = f"/challenges/{challenge.slug}/leaderboard/"

    def rows() -> dict[str, dict[str, Any]]:
        body = api.get(f"/api/challenges/{challenge.slug}/leaderboard/").json()
        return {row["participant"]: row for row in body["rows"]}

    share_code(challenge, hours_from_now=1)
    assert "built on #" not in client.get(board).content.decode()
    assert rows()[grace.user.username]["built_on"] is None

    # Cached a moment ago, before the date: the rows after it are others.
    share_code(challenge, hours_from_now=-1)
    page = client.get(board).content.decode()
    assert f"built on #{parent.pk} by {ada.user.username}" in page
    assert '<span class="note credit">+15.0 credit</span>' in page
    shared = rows()
    assert shared[grace.user.username]["built_on"] == parent.pk
    assert shared[ada.user.username]["fork_credit"] == 30.0 * FORK_CREDIT_SHARE
    own = client.get(f"/submissions/{fork.pk}/").content.decode()
    assert f"by {ada.user.username},\n  who is credited with 15.0 %" in own

    # And back: a date moved later hides them again at once.
    share_code(challenge, hours_from_now=1)
    assert "built on #" not in client.get(board).content.decode()
    assert rows()[ada.user.username]["fork_credit"] is None


def test_building_on_ones_own_team_credits_nobody() -> None:
    challenge = published_challenge(team_size=2)
    ada, grace, linus = participants(challenge, 3)
    team = team_create(participant=ada, name="owls")
    team_join(participant=grace, code=team.join_code)
    for member in (ada, grace):
        member.refresh_from_db()
    parent = scored(ada)
    mate = SubmissionFactory(participant=grace, parent=parent, contributivity=20.0)
    other = SubmissionFactory(participant=linus, parent=parent, contributivity=20.0)
    assert fork_credit(mate) is None
    assert fork_credit(other) == 20.0 * FORK_CREDIT_SHARE
    assert (
        fork_credit(SubmissionFactory(participant=linus, parent=parent, contributivity=0.0)) is None
    )


def test_build_on_this_is_a_form_post_with_its_csrf_token() -> None:
    challenge = published_challenge()
    ada, grace = participants(challenge, 2)
    theirs = scored(ada)
    share_code(challenge, hours_from_now=-1)
    client = Client(enforce_csrf_checks=True)
    client.force_login(grace.user)
    page = client.get(f"/challenges/{challenge.slug}/shared/").content.decode()
    form = page[page.index(f'action="/submissions/{theirs.pk}/fork/"') :]
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
    assert token is not None

    assert client.post(f"/submissions/{theirs.pk}/fork/").status_code == 403
    posted = client.post(f"/submissions/{theirs.pk}/fork/", {"csrfmiddlewaretoken": token[1]})
    assert posted.status_code == 302
    assert Submission.objects.get(participant=grace).parent == theirs


def test_the_shared_page_lists_the_best_and_says_how_many_there_are(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("judging.views.SHARED_ROWS", 1)
    challenge = published_challenge()
    ada, grace = participants(challenge, 2)
    best = scored(ada, public_score=0.97)
    other = scored(grace, public_score=0.5)
    share_code(challenge, hours_from_now=-1)
    page = logged_in(grace.user).get(f"/challenges/{challenge.slug}/shared/").content.decode()
    assert f'<tr data-submission="{best.pk}">' in page
    assert f'<tr data-submission="{other.pk}">' not in page
    assert "The best 1 of 2 are listed." in page
