"""A challenge with a judge queue of its own, with real worker processes on two
queues: its submissions never run on the shared pool, and run as soon as a worker
of its queue appears; the admin says which workers serve it, and warns when none
does."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.test import Client

from foundation.live_workers import live_workers_by_queue
from judging.judge_pools import judge_pool_of
from judging.models import SubmissionState
from tests.factories import DestinationFactory
from tests.judge_platform import judge_platform
from tests.processes import WorkerProcess, process_env, running
from tests.servers import wait_until
from tests.submissions import participants, published_challenge, upload
from worker_node.command import WorkerConfigError, worker_argv

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_private_queues_jobs_wait_for_its_own_worker_and_never_run_on_the_shared_pool() -> None:
    private = published_challenge(cv_folds=2, judge_queue="judge-hospital")
    shared = published_challenge(cv_folds=2)
    (owner_student,) = participants(private, 1)
    (other_student,) = participants(shared, 1)

    with judge_platform(beat=True) as platform:
        shared_worker = platform.judge_worker()
        waiting = upload(owner_student)
        # The shared pool is at work: it judges a submission sent after the private one.
        platform.wait_until_ended(upload(other_student))
        waiting.refresh_from_db()
        assert waiting.state == SubmissionState.QUEUED
        assert not waiting.events.filter(state=SubmissionState.RUNNING).exists()

        own_worker = platform.judge_worker(queue="judge-hospital")
        judged = platform.wait_until_ended(waiting)

    assert judged.state == SubmissionState.SCORED, judged.reason
    assert judged.worker.startswith(f"{own_worker.name} pid ")
    assert shared_worker.name not in judged.worker
    assert judged.job["queue"] == "judge-hospital"


def test_the_owners_workers_read_the_inputs_from_the_owners_store(tmp_path: Path) -> None:
    owner_store = tmp_path / "owner-store"
    challenge = published_challenge(cv_folds=2, judge_queue="judge-hospital")
    challenge.judging_rules.judge_store = DestinationFactory(
        owner=challenge.owner, name="hospital-store", path=str(owner_store)
    )
    challenge.judging_rules.save()
    (student,) = participants(challenge, 1)

    with judge_platform(beat=True, PPIPE_LOCAL_DESTINATION_ROOTS=str(tmp_path)) as platform:
        # The owner's worker knows nothing of the platform's store: only its own.
        platform.judge_worker(queue="judge-hospital", PPIPE_ARTIFACT_DIR=str(owner_store))
        judged = platform.wait_until_ended(upload(student))

    assert judged.state == SubmissionState.SCORED, judged.reason
    split = challenge.split
    for digest in (judged.code_sha256, split.train_sha256, split.test_features_sha256):
        assert (owner_store / digest[:2] / digest).is_file()
    # The run's artifacts stay with the owner.
    assert (
        owner_store / judged.artifacts["predictions"][:2] / judged.artifacts["predictions"]
    ).is_file()
    # Never the hidden labels.
    assert not (owner_store / split.labels_sha256[:2] / split.labels_sha256).exists()


def test_the_admin_names_the_queues_workers_and_warns_when_there_are_none(
    admin_client: Client,
) -> None:
    challenge = published_challenge(judge_queue="judge-hospital")
    page = f"/admin/challenges/challenge/{challenge.pk}/change/"

    unserved = admin_client.get(page).content.decode()
    with running(WorkerProcess(["judge-hospital"], **process_env())) as worker:
        worker.wait_ready()
        wait_until(
            lambda: (
                worker.name in (live_workers_by_queue(fresh=True) or {}).get("judge-hospital", [])
            ),
            timeout=30,
            what="the worker to say it serves judge-hospital",
        )
        served = admin_client.get(page).content.decode()
        pool = judge_pool_of(challenge.judging_rules, live_workers_by_queue())

    assert "no live worker serves judge-hospital" in unserved
    assert f"served by {worker.name}" in served
    assert pool.workers == [worker.name]


def test_ppipe_worker_serves_a_challenges_own_queue_and_refuses_other_names() -> None:
    argv = worker_argv(["judge-hospital"], host="lab-7", concurrency=None, environ={})

    assert argv[:4] == ["worker", "-Q", "judge-hospital", "-n"]
    assert argv[4] == "judge-hospital@lab-7"
    with pytest.raises(WorkerConfigError, match="judge-<name>"):
        worker_argv(["hospital"], host="lab-7", concurrency=None, environ={})
