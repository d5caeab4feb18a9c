"""Two selects racing for a participant's last free pick: one wins, the other is
refused (the participant's row is locked, as for uploads)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from judging.models import Submission, SubmissionState
from judging.picks import submission_select
from tests.factories import SubmissionFactory
from tests.servers import patience
from tests.submissions import participants, published_challenge
from worker_wing.pipeline.code_check import SubmissionRejected

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_selects_never_exceed_the_limit() -> None:
    (ada,) = participants(published_challenge(final_selections=2), 1)
    rows = [
        SubmissionFactory(participant=ada, state=SubmissionState.SCORED, public_score=0.5)
        for _ in range(6)
    ]
    start = threading.Barrier(len(rows))
    refused: list[int] = []

    def select(submission: Submission) -> None:
        try:
            start.wait()
            submission_select(submission=submission)
        except SubmissionRejected:
            refused.append(submission.pk)
        finally:
            connection.close()

    threads = [threading.Thread(target=select, args=(row,)) for row in rows]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30 * patience())

    assert Submission.objects.filter(selected=True).count() == 2
    assert len(refused) == 4
