"""A kept run can still be reproduced after a collector pass: its reproduction's
job, built from the database as the platform builds it, reads code and data that
are all still in the store, and the judge, run again on it, gives the same fold
scores. (A collected run keeps its code and data too: only its outputs go.)"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from foundation.content_store import artifact_store
from judging.jobs import judge_job
from judging.models import SubmissionState
from judging.owner_store import job_inputs
from judging.reproduction import reproduction_request, reproduction_send
from retention.models import CollectedRun
from retention.services import artifacts_collect
from tests.retention_runs import age_whole_store, ended_run, in_store, stored
from tests.submissions import participants, published_challenge, upload
from worker_wing.judge.executor import execute_judge_job
from worker_wing.judge.sandbox import SandboxConfig

pytestmark = pytest.mark.django_db


def judged(job: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    sandbox = SandboxConfig(prewarm=False, work_root=str(tmp_path))
    result = execute_judge_job(job, artifacts=artifact_store(), sandbox=sandbox)  # type: ignore[arg-type]
    assert result["ok"], result["reason"]
    return dict(result)


def test_a_selected_run_reproduces_after_its_neighbours_were_collected(tmp_path: Path) -> None:
    challenge = published_challenge(keep_days=1, cv_folds=2)
    (ada,) = participants(challenge, 1)
    kept = upload(ada)
    job = judge_job(submission=kept, attempt=1)
    original = judged(dict(job), tmp_path)
    kept.state, kept.job, kept.artifacts = SubmissionState.SCORED, job, original["artifacts"]
    kept.selected, kept.worker = True, "judge@lab-1 pid 1"
    kept.public_score = kept.private_score = kept.cv_mean = 0.99  # the student's best too
    kept.save()
    expired = ended_run(ada, artifacts={"logs": stored(b"an old run's logs")}, score=0.5)
    age_whole_store()  # only references keep a file now

    artifacts_collect(dry_run=False)

    assert CollectedRun.objects.filter(submission=expired).exists()
    assert all(map(in_store, original["artifacts"].values()))
    reproduction = reproduction_request(submission=kept, requested_by="teacher")
    sent: list[dict[str, Any]] = []
    reproduction_send(
        reproduction_id=reproduction.pk,
        live_judges=lambda queue: [],
        send=lambda job, node: sent.append(job) or "task-1",
    )
    (again,) = sent
    assert all(map(in_store, job_inputs(again)))  # type: ignore[arg-type]
    reproduced = judged(again, tmp_path / "again")
    assert [f["score"] for f in reproduced["folds"]] == [f["score"] for f in original["folds"]]
