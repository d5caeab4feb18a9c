from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from typing import TypeVar

import numpy as np
import pandas as pd
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Model, Q, QuerySet, Value
from django.db.models.functions import Lower
from django.utils import timezone
from numpy.typing import NDArray

from challenges import release_order
from challenges.datasets import read_dataset
from challenges.drift import row_times
from challenges.join_codes import join_code_normal
from challenges.models import Challenge, TaskType
from challenges.sections import challenge_sections
from challenges.splitting import Split, split_rows
from foundation.content_store import artifact_store, private_store

M = TypeVar("M", bound=Model)


def owned_by(
    queryset: QuerySet[M], user: AbstractBaseUser | AnonymousUser, *, owner: str
) -> QuerySet[M]:
    """What a teacher manages: rows whose `owner` lookup is them; a superuser manages all."""
    if getattr(user, "is_superuser", False):
        return queryset
    if not user.is_authenticated:
        return queryset.none()
    return queryset.filter(**{owner: user.pk})


def with_sections(challenges: QuerySet[Challenge]) -> QuerySet[Challenge]:
    """Challenges read with every section's row (challenges/sections.py) in the same query."""
    return challenges.select_related(*(section.accessor for section in challenge_sections()))


def challenges_owned_by(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Challenge]:
    challenges = with_sections(Challenge.objects.select_related("owner", "split"))
    return owned_by(challenges, user, owner="owner_id")


def challenges_visible_to(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Challenge]:
    """Challenges a user may see: the ones they teach, and the published ones they
    take part in; staff see all."""
    challenges = with_sections(Challenge.objects.select_related("owner", "split"))
    if not user.is_authenticated:
        return challenges.none()
    if getattr(user, "is_staff", False) and getattr(user, "is_superuser", False):
        return challenges
    return challenges.filter(
        Q(owner_id=user.pk) | Q(published_at__isnull=False, participants__user_id=user.pk)
    ).distinct()


def challenge_joinable(slug: str) -> Challenge | None:
    """A published challenge that takes self sign-up, by slug (for the join page)."""
    return (
        with_sections(Challenge.objects.filter(slug=slug, published_at__isnull=False))
        .exclude(join_code="")
        .first()
    )


def challenges_joinable_by(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Challenge]:
    """What a student could join with a code (the list offers them): published, not
    yet closed, taking sign-up with a code, and neither theirs nor one they are in."""
    if not user.is_authenticated or getattr(user, "is_superuser", False):
        return Challenge.objects.none()  # a superuser's list holds every challenge already
    return (
        Challenge.objects.filter(published_at__isnull=False, closes_at__gt=timezone.now())
        .exclude(join_code="")
        .exclude(owner_id=user.pk)
        .exclude(participants__user_id=user.pk)
    )


def challenge_with_code(code: str) -> Challenge | None:
    """The open challenge (published, not yet closed) whose join code this is, compared
    without case; codes are unique so (Challenge's constraint). Callers count the try
    (foundation/throttles.py): this answers whether a guess was right."""
    code = join_code_normal(code)
    if not code:
        return None
    # Lowered by the database, as the constraint lowers, so both agree on every letter.
    return (
        with_sections(
            Challenge.objects.filter(published_at__isnull=False, closes_at__gt=timezone.now())
        )
        .alias(code_lower=Lower("join_code"))
        .filter(code_lower=Lower(Value(code)))
        .first()
    )


def join_code_taken(code: str, *, other_than: int | None = None) -> bool:
    """Whether a challenge (other than `other_than`) has this code, in any case."""
    challenges = Challenge.objects.exclude(pk=other_than) if other_than else Challenge.objects
    return (
        challenges.alias(code_lower=Lower("join_code"))
        .filter(code_lower=Lower(Value(join_code_normal(code))))
        .exists()
    )


def challenge_for(
    user: AbstractBaseUser | AnonymousUser, slug: str, *, or_joinable: bool = False
) -> Challenge | None:
    """The challenge `slug` if the user may see it; with `or_joinable`, also one they
    could join with its code (its description and join form, nothing else)."""
    challenge = challenges_visible_to(user).filter(slug=slug).first()
    if challenge is None and or_joinable:
        challenge = challenge_joinable(slug)
    return challenge


# Both are named by content, so a cached frame can never be stale.
@lru_cache(maxsize=16)
def hidden_labels(labels_sha256: str) -> pd.DataFrame:
    """The hidden test set's labels and parts (private store: control side only)."""
    return private_store().read_frame(labels_sha256)


@lru_cache(maxsize=16)
def test_features(test_features_sha256: str) -> pd.DataFrame:
    """The hidden test set's features, in the order of its labels."""
    return artifact_store().read_frame(test_features_sha256)


def judging_configuration(challenge: Challenge) -> dict[str, object]:
    """What decides how a submission is judged: the dataset, the split and the
    sections' judging settings, by field name."""
    configuration = {
        name: getattr(challenge, name) for name in ("dataset_sha256", *Challenge.JUDGED_BY)
    }
    for section in challenge_sections():
        row = section.of(challenge)
        configuration.update({name: getattr(row, name) for name in section.judged_by})
    return configuration


def judging_configuration_digest(challenge: Challenge) -> str:
    """Each run's `config_sha256`: two runs with the same digest were judged alike."""
    canonical = json.dumps(judging_configuration(challenge), sort_keys=True, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def challenge_split(challenge: Challenge, frame: pd.DataFrame) -> Split:
    """The hidden test split the challenge's settings make of its dataset."""
    return split_rows(
        frame[challenge.target_column],
        stratify=challenge.task_type == TaskType.CLASSIFICATION,
        test_fraction=challenge.test_fraction,
        private_fraction=challenge.private_fraction,
        seed=challenge.split_seed,
    )


def training_rows_in_release_order(
    challenge: Challenge, frame: pd.DataFrame, split: Split
) -> tuple[pd.DataFrame, NDArray[np.float64] | None]:
    """The challenge's training rows in the order its releases slice them, and each
    dataset row's drift time (None without drift). Publishing stores the rows so."""
    drift = challenge.drift_settings
    times = row_times(frame, challenge.target_column, drift) if drift.active else None
    train = release_order.training_rows_in_release_order(
        frame.iloc[split.train],
        target=challenge.target_column,
        id_column=challenge.id_column,
        order=challenge.release_order,
        stratify=challenge.task_type == TaskType.CLASSIFICATION,
        seed=challenge.split_seed,
        drift=drift,
        times=None if times is None else times[split.train],
    )
    return train, times


def training_targets_before_publishing(challenge: Challenge) -> pd.Series:
    """The target of each training row, in release order, as publishing the saved
    challenge would store them now. Raises DatasetError or SplitError, whose
    messages say what to fix."""
    with challenge.dataset.open("rb") as handle:
        frame = read_dataset(handle, challenge.dataset_format)
    train, _ = training_rows_in_release_order(challenge, frame, challenge_split(challenge, frame))
    return train[challenge.target_column]
