"""Judging survives what goes wrong: a cancel stops a running job within seconds
and the worker goes on; a judge worker killed mid-job is noticed through its
missing heartbeats and the submission is judged again elsewhere, once."""

from __future__ import annotations

import psutil
import pytest

from judging.models import SubmissionState
from judging.services import submission_cancel
from judging.tasks import revoke_judge_task
from tests.judge_platform import judge_platform
from tests.servers import wait_until
from tests.submissions import participants, published_challenge, upload

SLEEPER = b"""\
import time
from sklearn.dummy import DummyClassifier


class Sleeper(DummyClassifier):
    def fit(self, X, y):
        time.sleep(600)


def get_estimator():
    return Sleeper()
"""
SLOW = b"""\
import time
from sklearn.dummy import DummyClassifier


class Slow(DummyClassifier):
    def fit(self, X, y):
        time.sleep(1)
        return super().fit(X, y)


def get_estimator():
    return Slow()
"""


def sandboxes_under(pid: int) -> list[psutil.Process]:
    return [p for p in psutil.Process(pid).children(recursive=True) if p.name() == "bwrap"]


@pytest.mark.django_db(transaction=True)
def test_a_cancel_stops_the_running_job_within_seconds_and_the_worker_judges_on() -> None:
    author, other = participants(published_challenge(wall_seconds_limit=600), 2)

    with judge_platform(beat=False) as platform:
        (judge,) = platform.workers[1:]
        sleeper = upload(author, SLEEPER)
        wait_until(
            lambda: sleeper.refresh_from_db() or sleeper.state == SubmissionState.RUNNING,
            timeout=60,
            what="the sleeper to run",
        )
        wait_until(lambda: sandboxes_under(judge.pid), timeout=30, what="its sandbox")
        submission_cancel(submission=sleeper, revoke=revoke_judge_task)
        wait_until(lambda: not sandboxes_under(judge.pid), timeout=15, what="the sandbox to end")
        follower = platform.wait_until_ended(upload(other))

    sleeper.refresh_from_db()
    assert (sleeper.state, sleeper.reason) == (
        SubmissionState.CANCELLED,
        "Cancelled by its author.",
    )
    assert follower.state == SubmissionState.SCORED, follower.reason


@pytest.mark.django_db(transaction=True)
def test_a_judge_worker_killed_mid_job_is_replaced_and_the_submission_scored_once() -> None:
    (author,) = participants(published_challenge(cv_folds=3), 1)

    with judge_platform() as platform:
        (doomed,) = platform.workers[1:]
        submission = upload(author, SLOW)
        wait_until(
            lambda: submission.refresh_from_db() or submission.state == SubmissionState.RUNNING,
            timeout=60,
            what="the job to run",
        )
        doomed.kill()
        platform.judge_worker()
        platform.wait_until_ended(submission, timeout=120)

    assert submission.state == SubmissionState.SCORED, submission.reason
    assert submission.attempts == 2
    messages = list(submission.events.values_list("message", flat=True))
    assert any("stopped answering" in message for message in messages)
    assert submission.events.filter(state=SubmissionState.SCORED).count() == 1
