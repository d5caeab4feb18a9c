"""A worker whose clock is off changes nothing the platform decides: jobs are
sent with no deadline in absolute time, a queued job taken back is revoked
instead, and the skew is named on the timeline and the operations page.
(The multi-host fault suite runs judge hosts five minutes ahead and behind.)"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone

from dispatch.tasks import _send as send_release_job
from foundation.heartbeat import result_store
from foundation.worker_clocks import SKEW_KEY, worker_clock_check, worker_clocks_off
from judging.models import Submission
from judging.services import submission_mark_started, submissions_feed, submissions_reap
from judging.tasks import _send as send_judge_job
from tests.submissions import RecordingSender, participants, published_challenge, upload

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_clocks_noted() -> None:
    result_store().delete(SKEW_KEY)


def queued_submission() -> Submission:
    submission = upload(participants(published_challenge(), 1)[0])
    submissions_feed(send=RecordingSender())
    submission.refresh_from_db()
    return submission


def _sent_message(broker_url: str, queue: str, task_id: str) -> dict[str, Any]:
    broker = redis.Redis.from_url(broker_url, decode_responses=True)
    (raw,) = [r for r in broker.lrange(queue, 0, -1) if json.loads(r)["headers"]["id"] == task_id]
    broker.lrem(queue, 1, raw)  # no worker should pick it up later
    return dict(json.loads(raw))


def test_judge_and_release_jobs_carry_no_deadline_a_skewed_worker_would_misread(
    settings: Any,
) -> None:
    submission = queued_submission()
    lease = timezone.now() + timedelta(seconds=30)

    send_judge_job(submission.pk, submission.job, lease, "judge-task-1")
    judge = _sent_message(settings.CELERY_BROKER_URL, "judge", "judge-task-1")
    release = _sent_message(
        settings.CELERY_BROKER_URL, "dispatch", send_release_job([{"transaction_id": 1}], lease)
    )

    for message in (judge, release):
        assert message["headers"]["expires"] is None
        assert message["headers"]["eta"] is None


def test_a_queued_job_taken_back_is_revoked_so_a_late_copy_is_dropped(
    django_capture_on_commit_callbacks: Any,
) -> None:
    submission = queued_submission()
    Submission.objects.filter(pk=submission.pk).update(task_id="task-9")
    discarded: list[str] = []

    with django_capture_on_commit_callbacks(execute=True):
        submissions_reap(discard=discarded.append, now=timezone.now() + timedelta(hours=1))

    assert discarded == ["task-9"]


def test_a_worker_five_minutes_ahead_is_named_on_the_timeline() -> None:
    submission = queued_submission()
    ahead = (datetime.now(UTC) + timedelta(minutes=5)).isoformat()

    started = submission_mark_started(
        submission_id=submission.pk,
        attempt=submission.attempts + 1,
        worker="judge1 pid 7",
        reported_at=ahead,
    )

    assert started
    message = submission.events.last().message  # type: ignore[union-attr]
    assert message.startswith("on judge1 pid 7 (its clock is 5 min 0 s ahead")


def test_a_worker_in_time_adds_nothing_to_the_timeline() -> None:
    submission = queued_submission()

    submission_mark_started(
        submission_id=submission.pk,
        attempt=submission.attempts + 1,
        worker="judge2 pid 8",
        reported_at=datetime.now(UTC).isoformat(),
    )

    assert submission.events.last().message == "on judge2 pid 8"  # type: ignore[union-attr]


def test_a_worker_whose_clock_was_put_right_leaves_the_list() -> None:
    now = datetime.now(UTC)
    worker_clock_check(worker="judge1", reported_at=(now - timedelta(minutes=5)).isoformat())
    assert [clock.worker for clock in worker_clocks_off()] == ["judge1"]

    worker_clock_check(worker="judge1", reported_at=now.isoformat())

    assert worker_clocks_off() == []


def test_the_operations_page_lists_workers_whose_clock_is_off(client: Client) -> None:
    behind = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
    worker_clock_check(worker="judge2 pid 8", reported_at=behind)
    client.force_login(get_user_model().objects.create_superuser("ops", "ops@example.org", "x"))

    page = client.get("/admin/operations/").content.decode()

    assert "Workers whose clock is off" in page
    assert "judge2 pid 8" in page
    assert "5 min 0 s behind the control side" in page
