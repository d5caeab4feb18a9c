"""Before the last release, the starting kit (the page's download) holds the rows of
the releases delivered to the student, each with the fold the judge gives it on all
the training rows, and its ppipe_test.py runs on them; the challenge page links it."""

from __future__ import annotations

import io
import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from django.test import Client
from django.utils import timezone

from dispatch.models import Release, Transaction, TransactionState
from receipts.selectors import release_rows
from tests.factories import ChallengeFactory, DestinationFactory
from tests.release_platform import publish_with_releases, training_rows
from tests.submissions import participants
from worker_wing.judge.job_inputs import cv_folds, fold_of_each_row


@pytest.mark.django_db
def test_the_kit_holds_the_delivered_release_with_the_judges_folds(tmp_path: Path) -> None:
    challenge = ChallengeFactory(cv_folds=3, release_downloads=True, release_order="shuffled")
    share = DestinationFactory(owner=challenge.owner, path=str(tmp_path / "share"))
    publish_with_releases(challenge, [share], releases="3", delay=3600)
    (student,) = participants(challenge, 1)
    second = Release.objects.get(challenge=challenge, sequence=2)
    Transaction.objects.filter(release=second).update(
        state=TransactionState.DONE, finished_at=timezone.now()
    )
    browser = Client()
    browser.force_login(student.user)

    page = browser.get(f"/challenges/{challenge.slug}/")
    answer = browser.get(f"/challenges/{challenge.slug}/kit/")

    assert f'href="/challenges/{challenge.slug}/kit/"' in page.content.decode()
    assert answer.status_code == 200
    zipfile.ZipFile(io.BytesIO(answer.content)).extractall(tmp_path / "kit")
    kit = tmp_path / "kit" / f"{challenge.slug}-kit"
    rows = pd.read_parquet(kit / "data" / "train.parquet")
    folds = pd.read_csv(kit / "data" / "folds.csv")
    pd.testing.assert_frame_equal(rows, release_rows(second).reset_index(drop=True))
    assert folds["row"].tolist() == list(range(second.row_start, second.row_stop))
    train = training_rows(challenge)
    judge = fold_of_each_row(cv_folds(train["species"], "classification", 3, 7), len(train))
    assert folds["fold"].tolist() == judge[second.row_start : second.row_stop].tolist()
    readme = (kit / "README.md").read_text()
    assert "releases 2 of 3" in readme
    assert "download the kit again after the last one" in readme
    done = subprocess.run(
        [sys.executable, "ppipe_test.py", "estimator.py"],
        cwd=kit,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert sum(fold["rows"] for fold in result["folds"]) == second.rows
    assert 0.5 < result["cv_mean"] <= 1.0
