"""What publishing a challenge will plan, in sentences for the teacher's publish
confirmation (ppipe_site/admin.py): how many releases go where, and when the first
is due. It plans with the same selector as publishing (dispatch.selectors), so the
confirmation and the plan cannot drift apart."""

from __future__ import annotations

from django.utils import timezone

from challenges.models import Challenge
from dispatch.planning import PlanError
from dispatch.selectors import planned_releases


def _interval(seconds: int) -> str:
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} seconds"


def publish_summary_lines(challenge: Challenge, *, train_rows: int) -> list[str]:
    """What publishing will plan, in sentences for the teacher."""
    plan = challenge.release_plan
    try:
        releases = planned_releases(
            challenge,
            total_rows=train_rows,
            first_release_at=plan.first_release_at or timezone.now(),
        )
    except PlanError as error:
        return [
            f"The release plan does not fit the data ({error}): publishing will be refused "
            "until the Releases section is changed."
        ]
    first = (
        f"the first at {timezone.localtime(plan.first_release_at):%Y-%m-%d %H:%M %Z}"
        if plan.first_release_at
        else "the first as soon as you publish (no first release time is set)"
    )
    every = (
        f", then one every {_interval(plan.release_interval_seconds)}" if len(releases) > 1 else ""
    )
    destinations = plan.destinations.count()
    where = (
        f"to {destinations} destination(s)"
        if destinations
        else "to no destination yet: nothing is sent until you choose some and re-plan"
    )
    count = len(releases)
    lines = [
        f"{count} release(s) of the {train_rows} training rows are planned {where}: {first}{every}."
    ]
    if plan.release_per_participant:
        lines.append("Each student receives their own copy of each release, in a folder of theirs.")
    lines.append(
        "The release settings stay editable: Re-plan releases rebuilds those not yet sent."
    )
    return lines
