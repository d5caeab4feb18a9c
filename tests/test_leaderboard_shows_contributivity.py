"""The leaderboard shows the represented submission's contributivity (a column on
the page, a field of the API's rows) without a query more."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from django.test import Client

from judging.contributivity import contributivity_compute, contributivity_mark_stale
from judging.leaderboard import leaderboard
from judging.models import Submission
from tests.contributivity import scored_with_oof, training_labels, with_errors
from tests.submissions import participants, published_challenge
from tests.test_api_challenges import token_client

pytestmark = pytest.mark.django_db


def test_the_leaderboard_shows_the_represented_submissions_contributivity(
    django_assert_num_queries: Any,
) -> None:
    challenge = published_challenge()
    ada, grace = participants(challenge, 2)
    y, _ = training_labels(challenge)
    rows = np.arange(len(y))
    best = scored_with_oof(ada, with_errors(y, rows[rows % 5 == 0]), 0.8)
    scored_with_oof(ada, with_errors(y, rows[rows % 5 == 1]), 0.7)
    theirs = scored_with_oof(grace, with_errors(y, rows[rows % 5 == 2]), 0.75)
    contributivity_mark_stale(challenge_id=challenge.pk)
    contributivity_compute(challenge_id=challenge.pk)
    shares = dict(Submission.objects.values_list("id", "contributivity"))

    # As many as without contributivity (tests/test_leaderboard.py counts them).
    with django_assert_num_queries(5):
        board = leaderboard(challenge)

    by_name = {row.participant: row for row in board.rows}
    assert by_name[ada.user.username].contributivity == shares[best.pk] > 0
    assert by_name[grace.user.username].contributivity == shares[theirs.pk] > 0
    api = token_client(ada.user).get(f"/api/challenges/{challenge.slug}/leaderboard/").json()
    assert {row["participant"]: row["contributivity"] for row in api["rows"]} == {
        ada.user.username: shares[best.pk],
        grace.user.username: shares[theirs.pk],
    }
    client = Client()
    client.force_login(ada.user)
    page = client.get(f"/challenges/{challenge.slug}/leaderboard/").content.decode()
    assert 'href="?order=contributivity">Contributivity %</a>' in page
    assert f'<td class="num contributivity">{shares[best.pk]:.1f}</td>' in page
