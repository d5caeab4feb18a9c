"""Prometheus labels come from a fixed vocabulary: a submission whose code raises,
judged end to end by real workers, counts under `kind="student_error"`,
`cause="student"`; a second one raising another exception adds no label value,
only one to the count. The exception's words never become a label."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from judging.models import SubmissionState
from tests.judge_platform import judge_platform
from tests.submissions import participants, published_challenge, upload
from worker_wing.jobs import FailureKind

pytestmark = pytest.mark.django_db(transaction=True)

RAISING = """\
class Broken:
    def fit(self, X, y):
        raise {error}("{message}")

    def predict(self, X):
        return X


def get_estimator():
    return Broken()
"""


def failure_series(client: Client) -> dict[tuple[tuple[str, str], ...], float]:
    text = client.get("/metrics").content.decode()
    found = re.findall(r"^ppipe_job_failures_total\{(.*)\} (\S+)$", text, re.MULTILINE)
    return {tuple(sorted(re.findall(r'(\w+)="([^"]*)"', labels))): float(n) for labels, n in found}


def test_a_raising_submission_adds_no_new_label_value(admin_client: Client) -> None:
    challenge = published_challenge(cv_folds=2)
    ada, grace = participants(challenge, 2)
    student_errors = (("cause", "student"), ("kind", "student_error"), ("queue", "judge"))

    with judge_platform() as platform:
        first = platform.wait_until_ended(
            upload(ada, RAISING.format(error="KeyError", message="age").encode())
        )
        after_first = failure_series(admin_client)
        second = platform.wait_until_ended(
            upload(grace, RAISING.format(error="ValueError", message="fold 3 is odd").encode())
        )
        after_second = failure_series(admin_client)

    assert (first.state, second.state) == (SubmissionState.FAILED, SubmissionState.FAILED)
    assert "KeyError" in first.reason
    assert "fold 3 is odd" in second.reason
    assert after_first[student_errors] == 1
    assert after_second[student_errors] == 2
    assert after_second.keys() == after_first.keys()
    kinds = {value for labels in after_second for key, value in labels if key == "kind"}
    assert kinds <= set(FailureKind)
