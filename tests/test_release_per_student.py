"""With a folder per student, each participant gets every release in a folder of
their own; a student who joins late receives the releases already made at once."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from challenges.services import challenge_publish, participant_enroll
from dispatch.models import Transaction
from tests.factories import ChallengeFactory, DestinationFactory, UserFactory


@pytest.mark.django_db
def test_each_participant_gets_their_own_folder() -> None:
    challenge = ChallengeFactory(
        first_release_at=timezone.now() + timedelta(hours=1),
        release_proportions="2",
        release_per_participant=True,
    )
    challenge.release_plan.destinations.set(
        [DestinationFactory(owner=challenge.owner, path="/srv/class")]
    )
    for name in ("ada", "grace"):
        participant_enroll(challenge=challenge, user=UserFactory(username=name))

    challenge_publish(challenge=challenge)

    paths = sorted(
        Transaction.objects.filter(release__challenge=challenge).values_list(
            "remote_path", flat=True
        )
    )
    slug = challenge.slug
    assert paths == [
        f"/srv/class/{slug}/ada/release-001.csv",
        f"/srv/class/{slug}/ada/release-002.csv",
        f"/srv/class/{slug}/grace/release-001.csv",
        f"/srv/class/{slug}/grace/release-002.csv",
    ]


@pytest.mark.django_db
def test_a_late_joiner_gets_past_releases_now_and_future_ones_on_time(
    teacher_client: Client, teacher: object
) -> None:
    start = timezone.now() - timedelta(minutes=30)
    challenge = ChallengeFactory(
        owner=teacher,
        first_release_at=start,
        release_proportions="3",
        release_interval_seconds=1200,
        release_per_participant=True,
    )
    challenge.release_plan.destinations.set([DestinationFactory(owner=teacher, path="/srv/class")])
    challenge_publish(challenge=challenge)
    late = UserFactory(username="late")

    before = timezone.now()
    response = teacher_client.post(
        "/admin/challenges/participant/add/", {"challenge": challenge.pk, "user": late.pk}
    )

    assert response.status_code == 302
    due = sorted(
        Transaction.objects.filter(participant__user=late).values_list(
            "release__sequence", "next_attempt_at"
        )
    )
    assert [sequence for sequence, _ in due] == [1, 2, 3]
    assert before <= due[0][1] <= timezone.now()  # release 1 was due 30 minutes ago: now
    assert before <= due[1][1] <= timezone.now()  # release 2 was due 10 minutes ago: now
    assert due[2][1] == start + timedelta(seconds=2400)  # release 3: at its time
