"""Reads of submissions: who may see which, and the leaderboard."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import pandas as pd
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet
from django.utils import timezone

from challenges.models import Challenge
from challenges.selectors import hidden_labels, owned_by
from foundation.content_store import artifact_store
from judging.models import Reproduction, Submission, SubmissionKind
from judging.scoring import HiddenTestScores, hidden_test_scores
from worker_wing.pipeline.archive import (
    ArchiveRejected,
    archive_listing,
    open_archive,
    read_archive_files,
)


def submissions_taught_by(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Submission]:
    """The submissions of a teacher's own challenges (all, for a superuser)."""
    return owned_by(
        Submission.objects.select_related("challenge", "participant__user"),
        user,
        owner="challenge__owner_id",
    )


def submission_code(submission: Submission) -> str:
    """The submitted source, for its author and its teacher, and from the challenge's
    code sharing date its participants (callers check: judging/sharing.py); a
    pipeline's files one after the other, each under its name."""
    try:
        content = artifact_store().read_bytes(submission.code_sha256)
    except (OSError, ValueError) as error:
        return f"(the code is not readable from the artifact store: {error})"
    if submission.kind != SubmissionKind.PIPELINE:
        return content.decode("utf-8", "replace")
    # The zip passed the upload check's caps in a child process, so reading it here
    # is bounded (worker_wing/pipeline/archive.py checks them again as it reads).
    try:
        archive = open_archive(content)
        files = read_archive_files(archive, archive_listing(archive))
    except ArchiveRejected as rejected:
        return f"(the zip is not readable: {rejected})"
    return "\n\n".join(
        f"# ===== {name} =====\n{data.decode('utf-8', 'replace')}"
        for name, data in sorted(files.items(), key=lambda item: item[0] != "pipeline.yaml")
    )


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


def submission_reproductions(submission: Submission) -> list[Reproduction]:
    """A submission's reproductions, newest first (for its page)."""
    return list(submission.reproductions.all())


def private_scores_visible(submission: Submission) -> bool:
    """Private scores are hidden until the challenge closes (to teachers too, on pages:
    the admin shows them)."""
    return timezone.now() >= submission.challenge.closes_at


@lru_cache(maxsize=16)
def _scoring_labels(labels_sha256: str) -> pd.DataFrame:
    # Read once per control process rather than once per result recorded: the
    # frame is named by its content's digest, so it never goes stale, and scoring
    # only reads it (judging/scoring.py copies the columns it uses).
    return hidden_labels(labels_sha256)


def challenge_test_scores(challenge: Challenge, predictions: list[Any]) -> HiddenTestScores:
    """Test predictions scored against the challenge's hidden labels (control side
    only: the labels never leave it). Raises ScoringError saying what is wrong."""
    return hidden_test_scores(
        labels=_scoring_labels(challenge.split.labels_sha256),
        target_column=challenge.target_column,
        metric_name=challenge.metric,
        predictions=predictions,
    )
