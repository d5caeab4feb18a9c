"""The picks for the final ranking: a student's (a team's, shared) selections
among their scored submissions, and a teacher's promotions beyond them.

Each pick is a conditional update under the participant's (and team's) lock,
so two racing selects cannot both take the last free pick; each writes a
SubmissionEvent for the timeline.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction as db_transaction
from django.utils import timezone

from challenges.models import Challenge
from judging.models import Submission, SubmissionEvent, SubmissionState
from teams.services import participant_lock
from worker_wing.pipeline.code_check import SubmissionRejected

State = SubmissionState


def _event(submission_id: int, state: str, attempt: int, message: str) -> None:
    SubmissionEvent.objects.create(
        submission_id=submission_id, state=state, attempt=attempt, message=message
    )


def _picks_refusal(challenge: Challenge, picked: list[int], team: bool) -> str:
    limit = challenge.judging_rules.final_selections
    numbers = ", ".join(f"#{pk}" for pk in picked)
    which = "it" if limit == 1 else "one of them"
    who = "Your team has" if team else "You have"
    return (
        f"{who} already selected {limit} submission{'s' if limit != 1 else ''} for the "
        f"final ranking ({numbers}), the most '{challenge.name}' allows. Unselect {which} "
        "first to free a pick."
    )


def _check_picks_open(challenge: Challenge, now: datetime) -> None:
    # After the close private scores are visible: picks made then would be chosen
    # knowing them.
    if now >= challenge.closes_at:
        raise SubmissionRejected(
            f"'{challenge.name}' closed at {challenge.closes_at:%Y-%m-%d %H:%M %Z}: "
            "the picks for the final ranking are final.",
            field="submission",
        )


def submission_select(*, submission: Submission) -> None:
    """Add this scored submission to its author's picks for the final ranking, or
    raise SubmissionRejected saying why not: at most the challenge's
    final_selections picks (the teacher's promotions do not use them up)."""
    with db_transaction.atomic():
        # One pick at a time per participant and per team (the rows submission_create
        # locks), so two racing selects cannot both see a free pick.
        team_id = participant_lock(submission.participant_id)
        current = Submission.objects.select_related("challenge").get(pk=submission.pk)
        _check_picks_open(current.challenge, timezone.now())
        if current.state != State.SCORED:
            raise SubmissionRejected(
                "Only a scored submission can be selected.", field="submission"
            )
        if current.selected:
            return
        # A team's members share its picks.
        whose = (
            {"participant__team_id": team_id}
            if team_id
            else {"participant_id": current.participant_id}
        )
        picked = list(
            Submission.objects.filter(**whose, selected=True)
            .order_by("created_at", "id")
            .values_list("id", flat=True)
        )
        if len(picked) >= current.challenge.judging_rules.final_selections:
            raise SubmissionRejected(
                _picks_refusal(current.challenge, picked, bool(team_id)), field="submission"
            )
        Submission.objects.filter(id=current.pk).update(selected=True)
        _event(current.pk, current.state, current.attempts, "selected for the final ranking")


def submission_unselect(*, submission: Submission) -> bool:
    """Take this submission out of its author's picks, freeing one; False if it
    was not picked."""
    with db_transaction.atomic():
        participant_lock(submission.participant_id)
        current = Submission.objects.select_related("challenge").get(pk=submission.pk)
        _check_picks_open(current.challenge, timezone.now())
        changed = Submission.objects.filter(id=current.pk, selected=True).update(selected=False)
        if changed:
            _event(current.pk, current.state, current.attempts, "unselected for the final ranking")
    return bool(changed)


def submission_promote(*, submission: Submission, by: str) -> bool:
    """A teacher's pick: the scored submission counts in the final ranking beyond
    its author's own picks. False if it was promoted already or is not scored."""
    with db_transaction.atomic():
        current = Submission.objects.select_for_update().filter(id=submission.pk).first()
        if current is None or current.promoted or current.state != State.SCORED:
            return False
        Submission.objects.filter(id=current.pk).update(promoted=True)
        _event(
            current.pk, current.state, current.attempts, f"promoted to the final ranking by {by}"
        )
    return True


def submission_withdraw_promotion(*, submission: Submission, by: str) -> bool:
    """Undo submission_promote; False if the submission was not promoted."""
    with db_transaction.atomic():
        current = Submission.objects.select_for_update().filter(id=submission.pk).first()
        if current is None or not current.promoted:
            return False
        Submission.objects.filter(id=current.pk).update(promoted=False)
        _event(current.pk, current.state, current.attempts, f"promotion withdrawn by {by}")
    return True
