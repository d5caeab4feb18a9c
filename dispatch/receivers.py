"""Dispatch's part when a challenge is published or a student joins one
(challenges/signals.py): their releases are planned in the same transaction."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from challenges.models import Challenge, Participant
from challenges.services import PublishError
from challenges.signals import challenge_published, participant_enrolled
from dispatch.planning import PlanError
from dispatch.services import participant_releases_plan, releases_plan


@receiver(challenge_published, dispatch_uid="dispatch-plans-releases")
def plan_releases(sender: Any, challenge: Challenge, **kwargs: Any) -> None:
    try:
        releases_plan(challenge=challenge)
    except PlanError as error:
        raise PublishError(f"The release plan does not fit the data: {error}") from None


@receiver(participant_enrolled, dispatch_uid="dispatch-plans-participant-releases")
def plan_participant_releases(sender: Any, participant: Participant, **kwargs: Any) -> None:
    participant_releases_plan(participant=participant)
