"""Reads of submissions: who may see which, and the leaderboard."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

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
