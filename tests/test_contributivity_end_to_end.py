"""Contributivity through the real path: judge workers with no database store each
run's out-of-fold predictions, the control worker records the scores and, a delay
after the commit, computes every scored submission's contributivity from the
artifact store."""

from __future__ import annotations

import pytest

from judging.models import Submission, SubmissionState
from tests import judge_platform as platform_module
from tests.judge_platform import judge_platform
from tests.servers import wait_until
from tests.submissions import participants, published_challenge, upload

NEAREST_NEIGHBOURS = b"""\
from sklearn.neighbors import KNeighborsClassifier


def get_estimator():
    return KNeighborsClassifier(n_neighbors=15)
"""


@pytest.mark.django_db(transaction=True)
def test_scored_submissions_get_their_contributivity(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(platform_module.FAST, "PPIPE_CONTRIBUTIVITY_DELAY_SECONDS", "1")
    ada, grace = participants(published_challenge(cv_folds=3), 2)

    with judge_platform(beat=False) as platform:
        first = platform.wait_until_ended(upload(ada))
        second = platform.wait_until_ended(upload(grace, NEAREST_NEIGHBOURS))
        assert first.state == second.state == SubmissionState.SCORED, platform.logs()

        def computed() -> bool:
            shares = Submission.objects.filter(contributivity_at__gte=second.finished_at)
            return shares.count() == 2

        wait_until(computed, timeout=60, what="contributivity of both")

    shares = list(Submission.objects.values_list("contributivity", flat=True))
    assert sum(shares) == pytest.approx(100.0)
    assert "oof" in first.artifacts
