"""A judge worker's result frees a judge slot: the control task that records it sends
the next waiting submission itself, after its commit, instead of queuing a feed task
for another turn of the control worker."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from celery.signals import before_task_publish

from judging.feed_wakeups import feed_wakeup_release
from judging.models import SubmissionState
from judging.services import submissions_feed
from judging.tasks import record_judge_result
from tests.notifications import scored_result
from tests.submissions import RecordingSender, participants, published_challenge, upload
from worker_node.names import EXECUTE_JUDGE_JOB

pytestmark = pytest.mark.django_db(transaction=True)
State = SubmissionState


@contextmanager
def published() -> Iterator[list[str]]:
    """The names of the tasks this process puts on the broker."""
    names: list[str] = []

    def count(sender: Any = None, **_: Any) -> None:
        names.append(str(sender))

    before_task_publish.connect(count, weak=False)
    try:
        yield names
    finally:
        before_task_publish.disconnect(count)


def test_a_recorded_result_sends_the_next_submission_without_a_feed_task(settings: Any) -> None:
    settings.PPIPE_JUDGE_QUEUE_DEPTH = 1
    first, second = participants(published_challenge(submissions_per_day=5), 2)
    running, waiting = upload(first), upload(second)
    # The feed the uploads woke runs (clearing its mark first, as feed_judge_queue does).
    feed_wakeup_release()
    assert submissions_feed(send=RecordingSender()) == 1  # the depth: one in the broker
    running.refresh_from_db()
    assert running.state == State.QUEUED

    result = {**scored_result(running), "attempt": 1}  # its first run
    with published() as names:
        # As the control worker runs it (eagerly here: in this process, with its
        # commit and the commit's hooks).
        record_judge_result.apply(args=(result,))

    running.refresh_from_db()
    waiting.refresh_from_db()
    assert running.state == State.SCORED
    assert waiting.state == State.QUEUED  # sent by the record task itself
    assert waiting.task_id  # its job went to the broker
    assert "judging.tasks.feed_judge_queue" not in names
    assert names.count(EXECUTE_JUDGE_JOB) == 1
