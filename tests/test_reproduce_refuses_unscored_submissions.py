"""Only a scored run can be reproduced: a failed, waiting or jobless submission is
refused with a message that says why, and nothing is queued or noted."""

from __future__ import annotations

import pytest

from judging.models import Reproduction
from judging.reproduction import ReproductionRefused, reproduction_request
from tests.factories import SubmissionFactory

pytestmark = pytest.mark.django_db

JOB = {"kind": "judge", "limits": {"wall_seconds": 10}}


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"state": "failed", "job": JOB}, "failed: there are no scores to reproduce"),
        ({"state": "running", "job": JOB}, "is running, not scored"),
        ({"state": "scored", "job": {}}, "has no recorded judge job to run again"),
    ],
)
def test_a_submission_without_a_scored_run_is_refused_saying_why(
    fields: dict[str, object], message: str
) -> None:
    submission = SubmissionFactory(**fields)

    with pytest.raises(ReproductionRefused, match=message):
        reproduction_request(submission=submission, requested_by="a test")

    assert not Reproduction.objects.exists()
    assert not submission.events.exists()


def test_a_scored_submission_is_queued_with_the_challenges_tolerance() -> None:
    submission = SubmissionFactory(state="scored", job=JOB, worker="judge@lab-1 pid 7")
    submission.challenge.judging_rules.reproduce_tolerance = 0.01
    submission.challenge.judging_rules.save()

    reproduction = reproduction_request(submission=submission, requested_by="a test")

    assert (reproduction.state, reproduction.tolerance) == ("queued", 0.01)
    assert reproduction.original_worker == "judge@lab-1 pid 7"
