"""A submission whose predictions come from os.urandom is reproduced with other
scores: the reproduction says it differed, and by how much."""

from __future__ import annotations

import pytest

from judging.models import ReproductionState, SubmissionState
from judging.reproduction import reproduction_request
from tests.judge_kits import estimator_predicting
from tests.judge_platform import judge_platform
from tests.reproductions import wait_until_reproduced
from tests.submissions import participants, published_challenge, upload

RANDOM_GUESSES = estimator_predicting(
    "self.classes_[np.frombuffer(os.urandom(len(X)), dtype=np.uint8) % len(self.classes_)]"
).encode()


@pytest.mark.django_db(transaction=True)
def test_a_run_guessing_from_os_urandom_differs_by_its_largest_score_difference() -> None:
    (author,) = participants(published_challenge(cv_folds=3), 1)

    # One judge worker is enough: the same worker reproduces when it is the only one.
    with judge_platform(judges=1, beat=False) as platform:
        submission = platform.wait_until_ended(upload(author, RANDOM_GUESSES))
        assert submission.state == SubmissionState.SCORED, submission.reason
        reproduction = reproduction_request(submission=submission, requested_by="a test")
        wait_until_reproduced(platform, reproduction)

    assert reproduction.state == ReproductionState.DIFFERED, reproduction.reason
    differences = [
        abs(pair["original"] - pair["reproduced"]) for pair in reproduction.scores.values()
    ]
    assert reproduction.max_difference == pytest.approx(max(differences))
    assert reproduction.max_difference > reproduction.tolerance
    assert reproduction.scores["public_score"]["original"] == submission.public_score
    outcome = submission.events.last()
    assert outcome is not None
    assert f"reproduction {reproduction.pk} differed" in outcome.message
    assert f"largest difference {reproduction.max_difference:.3g}" in outcome.message
