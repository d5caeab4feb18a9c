"""With one judge worker, a reproduction still runs: on the shared judge queue,
so on the original's worker, and it says so."""

from __future__ import annotations

import pytest

from judging.models import ReproductionState, SubmissionState
from judging.reproduction import reproduction_request, worker_node
from tests.judge_platform import judge_platform
from tests.reproductions import wait_until_reproduced
from tests.submissions import participants, published_challenge, upload


@pytest.mark.django_db(transaction=True)
def test_with_no_other_judge_worker_the_original_one_reproduces_and_it_is_noted() -> None:
    (author,) = participants(published_challenge(cv_folds=3), 1)

    with judge_platform(judges=1, beat=False) as platform:
        submission = platform.wait_until_ended(upload(author))
        assert submission.state == SubmissionState.SCORED, submission.reason
        reproduction = reproduction_request(submission=submission, requested_by="a test")
        wait_until_reproduced(platform, reproduction)

    assert reproduction.state == ReproductionState.MATCHED, reproduction.reason
    assert worker_node(reproduction.worker) == worker_node(submission.worker)
    assert reproduction.reason.startswith("No judge worker other than the original")
    assert "sent to the judge queue" in reproduction.reason
