"""The starting kit: downloaded after the last release, its ppipe_test.py scores a
deterministic submission (an estimator.py, a pipeline zip with a configuration)
exactly as a real judge worker scored it, fold by fold; on the releases fetched
from the destination too. A challenge that does not allow downloads gives a kit
with no rows, and someone who is not a member gets a 404."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import AbstractBaseUser
from rest_framework.test import APIClient

from challenges.models import Challenge
from judging.models import Submission, SubmissionState
from judging.services import submission_create
from tests.factories import ChallengeFactory, DestinationFactory, StudentFactory
from tests.judge_platform import judge_platform
from tests.pipeline_kits import MODEL_PY, SCALE_PY, SCALE_THEN_MODEL, zip_of
from tests.processes import WorkerProcess
from tests.release_platform import process_env, publish_with_releases, wait_until_all_ended
from tests.submissions import LOGISTIC_REGRESSION, participants, upload

PIPELINE = zip_of(SCALE_THEN_MODEL, {"scale.py": SCALE_PY, "model.py": MODEL_PY})


def _challenge(tmp_path: Path, *, downloads: bool) -> Challenge:
    challenge = ChallengeFactory(cv_folds=3, release_downloads=downloads)
    share = DestinationFactory(owner=challenge.owner, path=str(tmp_path / "share"))
    publish_with_releases(challenge, [share], releases="50,30,20", delay=0)
    return challenge


def _kit(user: AbstractBaseUser, slug: str, folder: Path) -> Path:
    client = APIClient()
    client.force_authenticate(user)
    answer = client.get(f"/api/challenges/{slug}/kit/", HTTP_ACCEPT="application/zip")
    assert answer.status_code == 200, answer.content
    assert answer["Content-Type"] == "application/zip"
    zipfile.ZipFile(io.BytesIO(answer.content)).extractall(folder)
    return folder / f"{slug}-kit"


def _local_run(kit: Path, *arguments: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "ppipe_test.py", *arguments],
        cwd=kit,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _same_as_judged(local: dict[str, Any], submission: Submission) -> None:
    assert submission.state == SubmissionState.SCORED, submission.reason
    assert submission.cv_mean is not None
    assert abs(local["cv_mean"] - submission.cv_mean) <= 1e-9
    judged = [(fold.index, fold.score) for fold in submission.folds.order_by("index")]
    assert len(judged) == 3
    assert [fold["index"] for fold in local["folds"]] == [index for index, _ in judged]
    assert [fold["score"] for fold in local["folds"]] == pytest.approx(
        [score for _, score in judged], abs=1e-12
    )


@pytest.mark.django_db(transaction=True)
def test_the_kit_scores_a_submission_as_the_judge_did(tmp_path: Path) -> None:
    challenge = _challenge(tmp_path, downloads=True)
    closed = _challenge(tmp_path, downloads=False)
    (student,) = participants(challenge, 1)
    (outsider,) = participants(closed, 1)

    # One environment for both sides: the dispatch lease the control worker gives is
    # the one the dispatch worker's time limit fits in.
    dispatch_env = process_env()
    with judge_platform(**dispatch_env) as platform:
        dispatch = WorkerProcess(["dispatch"], **dispatch_env)
        platform.stack.callback(dispatch.stop)
        dispatch.wait_ready()
        estimator = upload(student)
        pipeline = submission_create(
            participant=student,
            filename="pipeline.zip",
            content=PIPELINE,
            configuration={"model": "logistic"},
        )
        sweep = submission_create(
            participant=student, filename="pipeline.zip", content=PIPELINE, sweep=True
        )
        for released in (challenge, closed):
            ended = wait_until_all_ended(released, timeout=120, platform=platform)  # type: ignore[arg-type]
            assert {t.state for t in ended} == {"done"}
        estimator = platform.wait_until_ended(estimator)
        pipeline = platform.wait_until_ended(pipeline)
        sweep = platform.wait_until_ended(sweep)

    kit = _kit(student.user, challenge.slug, tmp_path / "kit")
    (kit / "estimator.py").write_bytes(LOGISTIC_REGRESSION)
    (kit / "pipeline.zip").write_bytes(PIPELINE)
    # The same rows fetched from where they arrived (CSV files) give the same score.
    fetched = tmp_path / "share" / challenge.slug
    # Four separate runs of the kit (each judges in a temporary folder of its
    # own), two at a time: most of each is importing and fitting, one core's work.
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = [
            pool.submit(_local_run, kit, *arguments)
            for arguments in (
                ["estimator.py"],
                ["pipeline.zip", "--configuration", "model=logistic"],
                ["pipeline.zip", "--sweep"],
                ["pipeline.zip", "--configuration", "model=logistic", "--data", str(fetched)],
            )
        ]
    local_estimator, local_pipeline, swept, local_on_fetched = (run.result() for run in runs)
    _same_as_judged(local_estimator, estimator)
    _same_as_judged(local_pipeline, pipeline)
    _same_as_judged(swept, sweep)
    assert [c["configuration"] for c in swept["configurations"]] == [
        {"model": "dummy"},
        {"model": "logistic"},
    ]
    _same_as_judged(local_on_fetched, pipeline)

    closed_kit = _kit(outsider.user, closed.slug, tmp_path / "closed")
    names = {path.name for path in closed_kit.rglob("*")}
    assert "train.parquet" not in names
    assert {"README.md", "estimator.py", "ppipe_test.py", "folds.csv"} <= names
    assert "does not allow downloads" in (closed_kit / "README.md").read_text()
    refused = subprocess.run(
        [sys.executable, "ppipe_test.py", "estimator.py"],
        cwd=closed_kit,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert refused.returncode == 2
    assert "this kit holds no rows" in refused.stderr
    # Its folds still place the rows the student fetched from where they arrive.
    on_fetched = _local_run(
        closed_kit, "estimator.py", "--data", str(tmp_path / "share" / closed.slug)
    )
    assert [fold["index"] for fold in on_fetched["folds"]] == [0, 1, 2]

    stranger = APIClient()
    stranger.force_authenticate(StudentFactory())
    assert stranger.get(f"/api/challenges/{challenge.slug}/kit/").status_code == 404
    assert APIClient().get(f"/api/challenges/{challenge.slug}/kit/").status_code in (401, 403, 404)
