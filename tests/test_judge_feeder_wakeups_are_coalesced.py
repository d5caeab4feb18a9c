"""A class's burst of uploads and results wakes the judge feeder once while no feed
has started, not once per change; the feed a real control worker then runs, and
those woken by later results, send every submission, each once."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from celery.signals import before_task_publish

from judging.models import Submission, SubmissionEvent, SubmissionState
from judging.services import submission_mark_started, submission_record_result, submissions_feed
from tests.notifications import scored_result
from tests.processes import WorkerProcess, running
from tests.servers import wait_until
from tests.submissions import RecordingSender, participants, published_challenge, upload

pytestmark = pytest.mark.django_db(transaction=True)
FEED = "judging.tasks.feed_judge_queue"
State = SubmissionState


@contextmanager
def feeds_queued() -> Iterator[list[str]]:
    """The feeds this process puts on the broker (wake-ups run after each commit here)."""
    queued: list[str] = []

    def count(sender: Any = None, **_: Any) -> None:
        if sender == FEED:
            queued.append(sender)

    before_task_publish.connect(count, weak=False)
    try:
        yield queued
    finally:
        before_task_publish.disconnect(count)


def _judge_what_is_queued() -> int:
    """Report every job in the broker started and scored, as a judge worker would."""
    rows = list(Submission.objects.filter(state=State.QUEUED))
    for row in rows:
        assert submission_mark_started(submission_id=row.pk, attempt=row.attempts + 1, worker="j")
        row.refresh_from_db()
        assert submission_record_result(result=scored_result(row)) == State.SCORED
    return len(rows)


def test_a_burst_queues_one_feed_and_every_submission_is_sent_once(settings: Any) -> None:
    settings.PPIPE_JUDGE_QUEUE_DEPTH = 4  # as the worker has it (the default)
    students = participants(published_challenge(submissions_per_day=50), 3)

    with feeds_queued() as queued:
        for number in range(12):
            upload(students[number % 3])
        submissions_feed(send=RecordingSender())  # 4 in the broker
        assert _judge_what_is_queued() == 4  # 4 starts and 4 results
        burst = list(queued)

        with running(WorkerProcess(["control"]).wait_ready()) as worker:
            while Submission.objects.exclude(state=State.SCORED).exists():
                wait_until(
                    lambda: Submission.objects.filter(state=State.QUEUED).exists(),
                    timeout=120,
                    what=f"the woken feeder to send more\n{worker.log_tail()}",
                )
                _judge_what_is_queued()

    assert burst == [FEED]  # 12 uploads, 4 starts, 4 results: one feed
    # How many feeds the later results queue depends on how fast the worker takes
    # each (a feed that has started no longer holds the mark): not asserted, as
    # the burst above is, where no worker runs.
    sent = SubmissionEvent.objects.filter(state=State.QUEUED)
    assert sent.count() == 12
    assert set(sent.values_list("submission_id", flat=True)) == set(
        Submission.objects.values_list("id", flat=True)
    )
