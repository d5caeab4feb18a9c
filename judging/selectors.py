"""Reads of submissions: who may see which, and the leaderboard."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet
from django.utils import timezone

from challenges.selectors import owned_by
from judging.models import Submission
from ppipe_site.content_store import artifact_store


def submissions_taught_by(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Submission]:
    """The submissions of a teacher's own challenges (all, for a superuser)."""
    return owned_by(
        Submission.objects.select_related("challenge", "participant__user"),
        user,
        owner="challenge__owner_id",
    )


def submission_code(submission: Submission) -> str:
    """The submitted source, for its author and its teacher only (callers check)."""
    try:
        return artifact_store().read_bytes(submission.code_sha256).decode("utf-8", "replace")
    except (OSError, ValueError) as error:
        return f"(the code is not readable from the artifact store: {error})"


def submissions_of(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Submission]:
    """A student's own submissions, newest first."""
    if not user.is_authenticated:
        return Submission.objects.none()
    return Submission.objects.select_related("challenge", "participant__user").filter(
        participant__user_id=user.pk
    )


def submission_readable_by(
    user: AbstractBaseUser | AnonymousUser, submission_id: int
) -> Submission | None:
    """A submission its author or its challenge's teacher may read, with its folds
    and timeline; None for anyone else (who must not learn it exists)."""
    visible = submissions_of(user) | submissions_taught_by(user)
    return (
        visible.prefetch_related("folds", "events", "configurations__steps")
        .filter(pk=submission_id)
        .first()
    )


def private_scores_visible(submission: Submission) -> bool:
    """Private scores are hidden until the challenge closes (to teachers too, on pages:
    the admin shows them)."""
    return timezone.now() >= submission.challenge.closes_at
