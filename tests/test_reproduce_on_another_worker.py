"""A scored run reproduced with two judge workers runs on the one that did not
judge it, matches the original's scores, and leaves the submission as judged
but for two notes on its timeline."""

from __future__ import annotations

import pytest

from judging.models import ReproductionState, SubmissionState
from judging.reproduction import reproduction_request, worker_node
from tests.judge_platform import judge_platform
from tests.reproductions import wait_until_reproduced
from tests.submissions import participants, published_challenge, upload


@pytest.mark.django_db(transaction=True)
def test_a_scored_run_reproduced_on_the_other_judge_worker_matches() -> None:
    (author,) = participants(published_challenge(cv_folds=3), 1)

    with judge_platform(judges=2, beat=False) as platform:
        submission = platform.wait_until_ended(upload(author))
        assert submission.state == SubmissionState.SCORED, submission.reason
        judged = (submission.public_score, submission.cv_mean, submission.finished_at)
        reproduction = reproduction_request(submission=submission, requested_by="a test")
        wait_until_reproduced(platform, reproduction)
        judges = {worker.name for worker in platform.workers[1:]}

    assert reproduction.state == ReproductionState.MATCHED, reproduction.reason
    assert worker_node(submission.worker) in judges
    assert worker_node(reproduction.worker) in judges - {worker_node(submission.worker)}
    assert reproduction.original_worker == submission.worker
    assert reproduction.max_difference is not None
    assert reproduction.max_difference <= reproduction.tolerance == 1e-6
    assert set(reproduction.scores) == {"fold_0", "fold_1", "fold_2", "cv_mean", "public_score"}
    assert reproduction.scores["public_score"]["original"] == submission.public_score
    assert reproduction.scores["public_score"]["reproduced"] == pytest.approx(judged[0])
    assert reproduction.provenance["code_sha256"] == submission.code_sha256
    assert reproduction.reason == ""
    submission.refresh_from_db()
    assert (submission.public_score, submission.cv_mean, submission.finished_at) == judged
    assert submission.state == SubmissionState.SCORED
    notes = list(submission.events.values_list("state", "message"))[-2:]
    assert notes[0] == ("scored", f"reproduction {reproduction.pk} requested by a test")
    assert notes[1][1].startswith(f"reproduction {reproduction.pk} matched on ")
