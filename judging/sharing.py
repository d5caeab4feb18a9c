"""RAMP's collaborative phase: reads of what a challenge shares from its code
sharing date (JudgingRules.code_sharing_at), and the credit a fork's parent gets.

From that date every scored submission's code, scores and costs are open to every
participant of the challenge; never before (before it a student reads only their
own, judging/selectors.py). Private scores still appear only after the close.

A fork is a submission built from a shared one (judging/services.py
`submission_fork`); it records its parent. When a fork improves the challenge's
ensemble (its contributivity is positive), its parent's author is credited with
FORK_CREDIT_SHARE of the fork's contributivity: a figure shown beside it, taken
from nobody (the fork keeps its whole contributivity; grades do not use it).
Only direct parents are credited, and only across teams: building on one's own
or a team-mate's submission credits nobody.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import F, QuerySet
from django.utils import timezone

from challenges.models import Challenge
from judging.models import Submission, SubmissionState
from judging.selectors import submission_readable_by

# The share of a fork's contributivity credited to its parent's author.
FORK_CREDIT_SHARE = 0.5


def code_sharing_at(challenge: Challenge) -> datetime | None:
    return challenge.judging_rules.code_sharing_at


def code_shared(challenge: Challenge, now: datetime | None = None) -> bool:
    """Whether the challenge shares its submissions' code now."""
    at = code_sharing_at(challenge)
    return at is not None and (now or timezone.now()) >= at


def _scored_shared() -> QuerySet[Submission]:
    return Submission.objects.filter(state=SubmissionState.SCORED).select_related(
        "challenge__judging_rules",
        "participant__user",
        "participant__team",
        "parent__participant__user",
        "parent__participant__team",
    )


def shared_submissions(challenge: Challenge) -> QuerySet[Submission]:
    """The challenge's scored submissions, best public score first (callers check
    that the challenge shares its code now)."""
    return (
        _scored_shared()
        .filter(challenge=challenge)
        .order_by(F("public_score").desc(nulls_last=True), "created_at", "id")
    )


def submission_shared_with(
    user: AbstractBaseUser | AnonymousUser, submission_id: int
) -> Submission | None:
    """A scored submission of a published challenge the user takes part in, once
    that challenge shares its code; None otherwise (before the date another's
    submission is not theirs to know of)."""
    if not user.is_authenticated:
        return None
    submission = (
        _scored_shared()
        .prefetch_related("folds")
        .filter(
            pk=submission_id,
            challenge__published_at__isnull=False,
            challenge__participants__user_id=user.pk,
        )
        .first()
    )
    if submission is None or not code_shared(submission.challenge):
        return None
    return submission


def submission_open_to(
    user: AbstractBaseUser | AnonymousUser, submission_id: int
) -> tuple[Submission, bool] | None:
    """A submission the user may read whole (their own, or as its teacher: True), or
    another's shared with them (False); None for anything else, which they must not
    learn exists."""
    submission = submission_readable_by(user, submission_id)
    if submission is not None:
        return submission, True
    shared = submission_shared_with(user, submission_id)
    return None if shared is None else (shared, False)


def author_of(submission: Submission) -> str:
    """Who made a submission, as the shared pages name them: the student, and their
    team in brackets."""
    participant = submission.participant
    name = participant.user.get_username()
    team = participant.team
    return f"{name} ({team.name})" if team is not None else name


def credit_of(
    *,
    contributivity: float | None,
    participant_id: int,
    team_id: int | None,
    parent_participant_id: int,
    parent_team_id: int | None,
) -> float | None:
    """What a fork credits to its parent's author (see the module's docstring):
    None when its contributivity is not positive, or the parent is its author's or
    its team's."""
    if not contributivity or contributivity <= 0:
        return None
    if parent_participant_id == participant_id or (
        team_id is not None and team_id == parent_team_id
    ):
        return None
    return FORK_CREDIT_SHARE * contributivity


def fork_credit(fork: Submission) -> float | None:
    """credit_of a submission (None without a parent)."""
    parent = fork.parent
    if parent is None:
        return None
    return credit_of(
        contributivity=fork.contributivity,
        participant_id=fork.participant_id,
        team_id=fork.participant.team_id,
        parent_participant_id=parent.participant_id,
        parent_team_id=parent.participant.team_id,
    )


@dataclass(frozen=True)
class Fork:
    """A fork of a challenge, as the leaderboard reads it."""

    id: int
    participant_id: int
    team_id: int | None
    contributivity: float | None
    parent_id: int
    parent_participant_id: int
    parent_team_id: int | None
    parent_author: str

    @property
    def credit(self) -> float | None:
        return credit_of(
            contributivity=self.contributivity,
            participant_id=self.participant_id,
            team_id=self.team_id,
            parent_participant_id=self.parent_participant_id,
            parent_team_id=self.parent_team_id,
        )


def challenge_forks(challenge: Challenge) -> list[Fork]:
    """The challenge's submissions that have a parent, in one query (a few rows: the
    foreign key's index finds them), ordered by id."""
    rows = (
        Submission.objects.filter(challenge=challenge, parent__isnull=False)
        .order_by("id")
        .values_list(
            "id",
            "participant_id",
            "participant__team_id",
            "contributivity",
            "parent_id",
            "parent__participant_id",
            "parent__participant__team_id",
            "parent__participant__user__username",
        )
    )
    return [Fork(*row) for row in rows]


def credits_by_parent(forks: list[Fork]) -> dict[int, float]:
    """Each parent submission's credit from its forks (summed)."""
    credits: dict[int, float] = {}
    for fork in forks:
        if (credit := fork.credit) is not None:
            credits[fork.parent_id] = credits.get(fork.parent_id, 0.0) + credit
    return credits
