"""A resource sweep's plans: the product of a pipeline's alternatives x the challenge's
core counts x its batch sizes, capped, cores varying slowest; a student's choice is
checked against what the challenge offers, on the trusted side."""

from __future__ import annotations

import pytest

from tests.test_pipeline_configurations import scale_and_model
from worker_wing.pipeline.code_check import SubmissionRejected
from worker_wing.pipeline.plan import resource_choice, submission_plans


def test_a_sweep_is_alternatives_times_cores_times_batch_sizes() -> None:
    plans = submission_plans(
        scale_and_model(1, 3),
        configuration=None,
        sweep=True,
        max_configurations=27,
        cores=[1, 2, 4],
        batch_sizes=[1, 32, 256],
    )

    assert len(plans) == 27
    triples = [(p["cores"], p["configuration"]["model"], p["batch_size"]) for p in plans]
    assert len(set(triples)) == 27
    # One core count after the other: the judge runs each in one confined run.
    assert [p["cores"] for p in plans] == [1] * 9 + [2] * 9 + [4] * 9
    assert triples[:4] == [
        (1, "logistic", 1),
        (1, "logistic", 32),
        (1, "logistic", 256),
        (1, "forest", 1),
    ]


def test_a_resource_sweep_past_the_cap_is_refused_saying_why() -> None:
    with pytest.raises(SubmissionRejected, match=r"27 configurations.*at most 26"):
        submission_plans(
            scale_and_model(1, 3),
            configuration=None,
            sweep=True,
            max_configurations=26,
            cores=[1, 2, 4],
            batch_sizes=[1, 32, 256],
        )


def test_a_student_may_sweep_a_subset_of_the_offer_and_no_more() -> None:
    assert resource_choice(None, [1, 2, 4], what="core counts", field="f") == [1, 2, 4]
    assert resource_choice([4, "1"], [1, 2, 4], what="core counts", field="f") == [1, 4]
    with pytest.raises(SubmissionRejected, match="offers core counts 1, 2 only; 8, 64 refused"):
        resource_choice([1, 8, 64], [1, 2], what="core counts", field="f")
    with pytest.raises(SubmissionRejected, match="does not allow sweeps over batch sizes"):
        resource_choice([32], [], what="batch sizes", field="f")
    with pytest.raises(SubmissionRejected, match="True"):
        resource_choice([True], [1], what="core counts", field="f")
