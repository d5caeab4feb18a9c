"""Publishing plans one transaction per (release, destination), each a
self-contained job whose stored JSON holds no secret."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from challenges.services import challenge_publish
from dispatch.models import Release, Transaction
from tests.factories import ChallengeFactory, DestinationFactory


@pytest.mark.django_db
def test_each_release_and_destination_gets_a_job_with_everything_it_needs(tmp_path: Path) -> None:
    first = timezone.now() + timedelta(minutes=5)
    challenge = ChallengeFactory(
        first_release_at=first, release_proportions="40,20,20,20", release_interval_seconds=60
    )
    folder = DestinationFactory(owner=challenge.owner, path=str(tmp_path / "out"))
    bucket = DestinationFactory(
        owner=challenge.owner,
        type="s3",
        path="course/2026",
        options={"provider": "Other", "endpoint": "http://127.0.0.1:9"},
        secret_options={"secret_access_key": "very-secret-value"},
    )
    challenge.release_plan.destinations.set([folder, bucket])

    split = challenge_publish(challenge=challenge)

    releases = list(Release.objects.filter(challenge=challenge))
    assert [(r.row_start, r.row_stop) for r in releases] == [(0, 42), (42, 63), (63, 84), (84, 105)]
    assert Transaction.objects.filter(release__challenge=challenge).count() == 8
    job = Transaction.objects.get(release=releases[1], destination=bucket).job
    assert job["source"]["sha256"] == split.train_sha256
    assert job["rows"] == {"start": 42, "stop": 63}
    assert job["destination"]["path"] == f"course/2026/{challenge.slug}/release-002.csv"
    assert job["destination"]["remote"]["options"]["secret_access_key"] == "***"
    assert "very-secret-value" not in str(Transaction.objects.values_list("job", flat=True))
    assert job["due_at"] == (first + timedelta(seconds=60)).isoformat()


@pytest.mark.django_db
def test_a_plan_that_does_not_fit_the_data_leaves_the_challenge_unpublished() -> None:
    challenge = ChallengeFactory(
        first_release_at=timezone.now(), release_rows=None, release_proportions="500"
    )
    challenge.release_plan.destinations.set([DestinationFactory(owner=challenge.owner)])

    with pytest.raises(Exception, match="would leave a release empty"):
        challenge_publish(challenge=challenge)

    challenge.refresh_from_db()
    assert not challenge.is_published
    assert not Release.objects.filter(challenge=challenge).exists()
