"""The whole path of a code submission: upload, the feeder sends the job after
commit, a judge worker with no database trains it in the sandbox, the control
worker scores the test predictions against the hidden labels and records once."""

from __future__ import annotations

import pytest

from judging.models import SubmissionState
from tests.judge_platform import judge_platform
from tests.submissions import participants, published_challenge, upload

BROKEN_FIT = b"""\
from sklearn.linear_model import LogisticRegression


class Broken(LogisticRegression):
    def fit(self, X, y):
        raise ValueError("the student's own bug")


def get_estimator():
    return Broken()
"""


@pytest.mark.django_db(transaction=True)
def test_a_good_and_a_broken_submission_end_scored_and_failed_with_the_reason() -> None:
    good_author, bad_author = participants(published_challenge(cv_folds=3), 2)

    with judge_platform(beat=False) as platform:
        good = platform.wait_until_ended(upload(good_author))
        bad = platform.wait_until_ended(upload(bad_author, BROKEN_FIT))

    assert good.state == SubmissionState.SCORED, good.reason
    assert 0.8 < good.public_score <= 1.0  # iris, a scaled logistic regression
    assert good.private_score is not None
    assert good.folds.count() == 3
    assert good.cpu_seconds > 0
    assert good.peak_memory_mb > 0
    assert good.provenance["code_sha256"] == good.code_sha256
    assert bad.state == SubmissionState.FAILED
    assert "the student's own bug" in bad.reason
    assert "ValueError" in bad.stderr_tail
    assert list(good.events.values_list("state", flat=True)) == [
        "new",
        "queued",
        "running",
        "scored",
    ]
