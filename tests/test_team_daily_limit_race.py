"""Members of a team uploading at once cannot pass its daily limit together: the
team's row is locked while its submissions are counted."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from challenges.models import Participant
from judging.models import Submission
from tests.servers import patience
from tests.submissions import published_challenge, upload
from tests.teams import student, team
from worker_wing.pipeline.code_check import SubmissionRejected

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_uploads_of_members_never_exceed_the_teams_limit() -> None:
    challenge = published_challenge(submissions_per_day=2, team_size=4)
    members = [student(challenge, name) for name in ("ada", "grace", "hopper", "linus")]
    team("owls", *members)
    start = threading.Barrier(len(members))
    refused: list[str] = []

    def submit(member: Participant) -> None:
        try:
            start.wait()
            upload(member)
        except SubmissionRejected as error:
            refused.append(str(error))
        finally:
            connection.close()

    threads = [threading.Thread(target=submit, args=(member,)) for member in members]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60 * patience())

    assert Submission.objects.count() == 2
    assert len(refused) == 2
