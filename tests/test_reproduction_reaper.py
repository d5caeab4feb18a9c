"""The reaper fails a reproduction whose lease ran out, queued (no judge worker
took it) or running (its worker never reported), and leaves one within its lease."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from judging.models import Reproduction, ReproductionState
from judging.reproduction import (
    reproduction_mark_started,
    reproduction_request,
    reproductions_reap,
)
from judging.tasks import reap_stuck_reproductions
from tests.factories import SubmissionFactory

pytestmark = pytest.mark.django_db

JOB = {"kind": "judge", "limits": {"wall_seconds": 10}}


def requested() -> Reproduction:
    submission = SubmissionFactory(state="scored", job=JOB, public_score=0.9)
    return reproduction_request(submission=submission, requested_by="a test")


def test_a_reproduction_no_worker_took_fails_once_its_lease_ran_out() -> None:
    reproduction = requested()
    assert reproduction.lease_expires_at is not None
    # The queue wait, the job's wall limit and the margin.
    assert reproduction.lease_expires_at - reproduction.requested_at >= timedelta(seconds=10)
    Reproduction.objects.filter(pk=reproduction.pk).update(
        lease_expires_at=timezone.now() - timedelta(seconds=1)
    )

    assert reap_stuck_reproductions() == 1  # the beat-scheduled reaper

    reproduction.refresh_from_db()
    assert reproduction.state == ReproductionState.FAILED
    assert reproduction.reason == "No judge worker took the job before its lease ran out."
    assert reproduction.finished_at is not None
    submission = reproduction.submission
    assert submission.state == "scored"
    outcome = submission.events.last()
    assert outcome is not None
    assert outcome.message == f"reproduction {reproduction.pk} failed: {reproduction.reason}"


def test_a_running_reproduction_whose_worker_went_silent_fails_naming_it() -> None:
    reproduction = requested()
    assert reproduction_mark_started(reproduction_id=reproduction.pk, worker="judge@lab-2 pid 9")
    reproduction.refresh_from_db()
    assert reproduction.lease_expires_at is not None
    within = reproduction.lease_expires_at - timedelta(seconds=1)
    assert reproductions_reap(now=within) == 0
    assert reproductions_reap(now=reproduction.lease_expires_at + timedelta(seconds=1)) == 1

    reproduction.refresh_from_db()
    assert reproduction.state == ReproductionState.FAILED
    assert "The judge worker (judge@lab-2) reported no result" in reproduction.reason
