"""Writes to challenges. Callers: the admin, management commands, the API."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from django.contrib.auth.models import AbstractBaseUser, Group, Permission, User
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from challenges.datasets import read_dataset
from challenges.drift import TIME
from challenges.join_codes import join_code_matches
from challenges.models import Challenge, ChallengeSplit, Participant
from challenges.selectors import challenge_split, training_rows_in_release_order
from challenges.signals import challenge_published, participant_enrolled
from foundation.accounts import TEACHERS_GROUP
from foundation.content_store import artifact_store, private_store

if TYPE_CHECKING:
    from challenges.join_forms import SignupForm

# (app, codename): what a teacher may do. Querysets in the admin narrow each to
# the teacher's own rows.
TEACHER_PERMISSIONS = [
    ("challenges", "add_challenge"),
    ("challenges", "change_challenge"),
    ("challenges", "delete_challenge"),
    ("challenges", "view_challenge"),
    ("challenges", "view_challengesplit"),
    ("challenges", "add_participant"),
    ("challenges", "view_participant"),
    ("challenges", "delete_participant"),
    ("teams", "add_team"),
    ("teams", "change_team"),
    ("teams", "delete_team"),
    ("teams", "view_team"),
    ("teams", "view_teamevent"),
    ("dispatch", "add_destination"),
    ("dispatch", "change_destination"),
    ("dispatch", "delete_destination"),
    ("dispatch", "view_destination"),
    ("dispatch", "view_release"),
    ("dispatch", "change_transaction"),
    ("dispatch", "view_transaction"),
    ("dispatch", "view_transactionevent"),
    ("judging", "view_submission"),
    ("judging", "change_submission"),
    ("judging", "view_foldresult"),
    ("judging", "view_submissionevent"),
    ("judging", "view_reproduction"),
    ("probing", "view_endpoint"),
    ("probing", "change_endpoint"),
    ("probing", "view_probe"),
    ("receipts", "view_question"),
]

ROW_ID = "row_id"
PART = "part"


class PublishError(Exception):
    """The challenge cannot be published; the message says why."""


def teacher_group_ensure() -> Group:
    group, _ = Group.objects.get_or_create(name=TEACHERS_GROUP)
    wanted = Q()
    for app_label, codename in TEACHER_PERMISSIONS:
        wanted |= Q(content_type__app_label=app_label, codename=codename)
    group.permissions.add(*Permission.objects.filter(wanted))
    return group


def challenge_publish(*, challenge: Challenge) -> ChallengeSplit:
    """Freeze the configuration, split the data into train and hidden test, and
    plan the releases of the training rows.

    The split's files are written before the database changes; they are named by
    content, so a failed or repeated publish leaves nothing inconsistent behind.
    """
    if challenge.is_published:
        raise PublishError(f"'{challenge.slug}' is already published.")
    with challenge.dataset.open("rb") as handle:
        if hashlib.sha256(handle.read()).hexdigest() != challenge.dataset_sha256:
            raise PublishError(
                f"The stored dataset of '{challenge.slug}' no longer matches the file that was "
                "validated: upload it again."
            )
        frame = read_dataset(handle, challenge.dataset_format)
    target = challenge.target_column
    split = challenge_split(challenge, frame)
    row_ids = frame[challenge.id_column] if challenge.id_column else frame.index.to_series()
    test = frame.iloc[split.test]
    labels = test[[target]].assign(**{ROW_ID: row_ids.iloc[split.test].to_numpy(), PART: "public"})
    labels.loc[labels.index.isin(frame.index[split.private_test]), PART] = "private"
    train, times = training_rows_in_release_order(challenge, frame, split)
    if times is not None:
        # Probes pick test rows by time, as releases slice the training rows.
        labels[TIME] = times[split.test]
    train_sha256 = artifact_store().put_frame(train)
    test_features_sha256 = artifact_store().put_frame(test.drop(columns=[target]))
    labels_sha256 = private_store().put_frame(labels[[ROW_ID, target, PART, *labels.columns[3:]]])

    with transaction.atomic():
        # The conditional update is the claim: of two publishes racing, one wins.
        claimed = Challenge.objects.filter(pk=challenge.pk, published_at__isnull=True).update(
            published_at=timezone.now()
        )
        if not claimed:
            raise PublishError(f"'{challenge.slug}' is already published.")
        result = ChallengeSplit.objects.create(
            challenge=challenge,
            train_sha256=train_sha256,
            test_features_sha256=test_features_sha256,
            labels_sha256=labels_sha256,
            train_rows=len(split.train),
            public_test_rows=len(split.public_test),
            private_test_rows=len(split.private_test),
        )
        challenge.split = result
        # The releases are planned here (dispatch), in this transaction.
        challenge_published.send(sender=Challenge, challenge=challenge)
    challenge.refresh_from_db()
    return result


def participant_enroll(*, challenge: Challenge, user: AbstractBaseUser) -> tuple[Participant, bool]:
    """Make a user a participant; on a per-student challenge, their releases are
    planned in the same transaction (dispatch)."""
    with transaction.atomic():
        participant, created = Participant.objects.get_or_create(challenge=challenge, user=user)
        if created:
            participant_enrolled.send(sender=Participant, participant=participant)
    return participant, created


class JoinRefused(ValueError):
    """The user may not join; the message says why."""


def participant_join(*, challenge: Challenge, user: AbstractBaseUser, code: str) -> Participant:
    """Self sign-up: a student who knows the challenge's join code, typed in any case,
    takes part while the challenge is open to new students (published, not closed)."""
    if not challenge.join_code:
        raise JoinRefused(f"'{challenge.name}' is open to its roster only: ask your teacher.")
    if not join_code_matches(code, challenge.join_code):
        raise JoinRefused(
            "This code is not the challenge's: check it with your teacher (capitals do not matter)."
        )
    if not challenge.is_published:
        raise JoinRefused(f"'{challenge.name}' is not published yet.")
    if challenge.closes_at <= timezone.now():
        closed = timezone.localtime(challenge.closes_at)
        raise JoinRefused(
            f"'{challenge.name}' closed on {closed:%Y-%m-%d %H:%M %Z}: it takes no new students."
        )
    participant, _ = participant_enroll(challenge=challenge, user=user)
    return participant


def student_signup(*, form: SignupForm) -> tuple[User, Participant]:
    """Create the account of a valid SignupForm and make it a participant, all or nothing."""
    with transaction.atomic():
        user = form.save()
        # The form found the challenge by its code; joining checks it again, in this
        # transaction, so an account is never left without its challenge.
        participant = participant_join(
            challenge=form.cleaned_data["challenge"], user=user, code=form.cleaned_data["code"]
        )
    return user, participant
