"""Contributivity on the control side: when a challenge's is stale, and its
recomputation from the runs' out-of-fold predictions (judging/blending.py).

A judge worker stores each scored run's out-of-fold predictions in the artifact
store (`oof`, worker_wing/judge/run_artifacts.py); recording the result marks the challenge
stale and, when it was fresh, schedules one computation DELAY seconds after the
commit, so a burst of results costs one computation, not one each. A result
recorded while a computation runs leaves the challenge stale, and the computation
schedules the next when it ends. Beat's tick sends any computation overdue (a lost
message, a worker that died mid-way: the claim is a lease).

Bounds: the MAX_SUBMISSIONS best submissions by cross-validation score are
blended (the others get None), each fold's ensemble has at most MAX_MEMBERS, and
a computation stops adding members after SECONDS (marked `cut_short`).
"""

from __future__ import annotations

import io
import logging
import time
from datetime import datetime, timedelta
from functools import lru_cache, partial

import numpy as np
import pandas as pd
from django.conf import settings
from django.db import transaction as db_transaction
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone

from challenges.models import Challenge
from foundation.content_store import artifact_store
from judging import signals
from judging.blending import Blend, blend
from judging.models import ChallengeBlend, Submission, SubmissionState
from worker_wing.judge.metrics import get_metric
from worker_wing.judge.predictions import read_out_of_fold

logger = logging.getLogger(__name__)

FRESH, BUSY, COMPUTED = "fresh", "busy", "computed"


def _compute_soon(challenge_id: int, countdown: int) -> None:
    signals.contributivity_due.send(
        sender=ChallengeBlend,
        challenge_id=challenge_id,
        countdown=countdown,
        time_limit=_lease_seconds(),
    )


def _schedule_after_commit(challenge_id: int) -> None:
    delay = settings.PPIPE_CONTRIBUTIVITY_DELAY_SECONDS
    db_transaction.on_commit(partial(_compute_soon, challenge_id, delay))


def contributivity_mark_stale(*, challenge_id: int, now: datetime | None = None) -> bool:
    """In the transaction recording a scored result: the challenge's contributivity
    is stale. True when it was fresh (a computation is then scheduled after the
    commit); a stale one has its computation scheduled already."""
    ChallengeBlend.objects.bulk_create(
        [ChallengeBlend(challenge_id=challenge_id)], ignore_conflicts=True
    )
    # Two results racing: the second waits for the first's row lock, then finds
    # the challenge stale and only counts itself.
    was_fresh = ChallengeBlend.objects.filter(
        challenge_id=challenge_id, version=F("computed_version")
    ).update(version=F("version") + 1, stale_since=now or timezone.now())
    if was_fresh:
        _schedule_after_commit(challenge_id)
        return True
    ChallengeBlend.objects.filter(challenge_id=challenge_id).update(version=F("version") + 1)
    return False


def _lease_seconds() -> int:
    # The computation stops adding members at its budget, then writes: twice the
    # budget and a margin, so a live computation never loses its claim.
    return 2 * settings.PPIPE_CONTRIBUTIVITY_SECONDS + 60


@lru_cache(maxsize=8)
def _training_labels(train_sha256: str, target_column: str) -> pd.Series:
    # Keyed by the content's digest: never stale.
    data = artifact_store().read_bytes(train_sha256)
    return pd.read_parquet(io.BytesIO(data), columns=[target_column])[target_column]


def _fold_of_each_row(challenge: Challenge, y: pd.Series) -> np.ndarray:
    # The judge's own folds, recomputed from the same labels, count and seed.
    from worker_wing.judge.job_inputs import cv_folds, fold_of_each_row

    folds = cv_folds(y, challenge.task_type, challenge.judging_rules.cv_folds, challenge.split_seed)
    return fold_of_each_row(folds, len(y))


def blend_candidate_ids(challenge: Challenge) -> set[int]:
    """The submissions whose out-of-fold predictions the blend reads: the retention
    policy keeps their artifacts (retention/policy.py)."""
    if not hasattr(challenge, "split"):
        return set()
    return {row.pk for row in _candidates(challenge)}


def _candidates(challenge: Challenge) -> list[Submission]:
    """The best scored submissions by cross-validation that left out-of-fold
    predictions for the challenge's training data, oldest first (ties go to them)."""
    best = (
        Submission.objects.filter(
            challenge=challenge,
            state=SubmissionState.SCORED,
            cv_mean__isnull=False,
            artifacts__has_key="oof",
            provenance__train_sha256=challenge.split.train_sha256,
            provenance__cv_seed=challenge.split_seed,
        )
        .order_by("-cv_mean", "created_at", "id")
        .only("id", "created_at", "artifacts")[: settings.PPIPE_CONTRIBUTIVITY_MAX_SUBMISSIONS]
    )
    return sorted(best, key=lambda row: (row.created_at, row.id))


def _readable(
    rows: list[Submission], length: int, task_type: str
) -> tuple[list[Submission], list[np.ndarray]]:
    store = artifact_store()
    kept, arrays = [], []
    for row in rows:
        try:
            data = store.read_bytes(str(row.artifacts["oof"]))
            arrays.append(read_out_of_fold(data, length, task_type))
        except (OSError, ValueError) as error:
            logger.warning("submission %s left out of the blend: %s", row.id, error)
            continue
        kept.append(row)
    return kept, arrays


def _blended(challenge: Challenge) -> tuple[list[Submission], Blend]:
    y = _training_labels(challenge.split.train_sha256, challenge.target_column)
    rows, arrays = _readable(_candidates(challenge), len(y), challenge.task_type)
    result = blend(
        arrays,
        y.to_numpy(),
        _fold_of_each_row(challenge, y),
        task_type=challenge.task_type,
        score=get_metric(challenge.metric).score,
        max_members=settings.PPIPE_CONTRIBUTIVITY_MAX_MEMBERS,
        seconds=settings.PPIPE_CONTRIBUTIVITY_SECONDS,
    )
    return rows, result


def _record(challenge: Challenge, rows: list[Submission], result: Blend, now: datetime) -> None:
    Submission.objects.filter(challenge=challenge, contributivity__isnull=False).exclude(
        id__in=[row.id for row in rows]
    ).update(contributivity=None, contributivity_at=now)
    for row, share in zip(rows, result.contributivity, strict=True):
        row.contributivity, row.contributivity_at = share, now
    Submission.objects.bulk_update(rows, ["contributivity", "contributivity_at"])


def contributivity_compute(*, challenge_id: int, now: datetime | None = None) -> str:
    """Recompute a stale challenge's contributivity and store it per submission:
    `computed`; `fresh` when there was nothing to do, `busy` when another
    computation holds the claim. Schedules the next computation when results
    arrived while this one ran."""
    now = now or timezone.now()
    claimed = (
        ChallengeBlend.objects.filter(challenge_id=challenge_id, version__gt=F("computed_version"))
        .filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now))
        .update(lease_expires_at=now + timedelta(seconds=_lease_seconds()))
    )
    if not claimed:
        stale = ChallengeBlend.objects.filter(
            challenge_id=challenge_id, version__gt=F("computed_version")
        )
        return BUSY if stale.exists() else FRESH
    state = ChallengeBlend.objects.select_related("challenge__split").get(challenge_id=challenge_id)
    seen, started = state.version, time.monotonic()
    try:
        rows, result = _blended(state.challenge)
    except BaseException:
        ChallengeBlend.objects.filter(pk=state.pk).update(lease_expires_at=None)
        raise
    done = timezone.now()
    with db_transaction.atomic():
        _record(state.challenge, rows, result, done)
        ChallengeBlend.objects.filter(pk=state.pk).update(
            computed_version=seen,
            computed_at=done,
            lease_expires_at=None,
            seconds=time.monotonic() - started,
            candidates=len(rows),
            cut_short=result.cut_short,
            folds=[
                {"score": fold.score, "members": [rows[m].id for m in fold.members]}
                for fold in result.folds
            ],
            # Results recorded meanwhile: stale since now.
            stale_since=Case(When(version=seen, then=None), default=Value(done)),
        )
        if ChallengeBlend.objects.filter(pk=state.pk, version__gt=seen).exists():
            _schedule_after_commit(challenge_id)
    return COMPUTED


def contributivity_refresh(*, now: datetime | None = None) -> int:
    """Beat's tick: send the computation of every challenge stale for longer than
    the delay whose claim is free (a message lost, a computation that died)."""
    now = now or timezone.now()
    overdue = now - timedelta(seconds=settings.PPIPE_CONTRIBUTIVITY_DELAY_SECONDS)
    stale = ChallengeBlend.objects.filter(
        version__gt=F("computed_version"), stale_since__lte=overdue
    ).filter(Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lt=now))
    challenge_ids = list(stale.values_list("challenge_id", flat=True))
    for challenge_id in challenge_ids:
        _compute_soon(challenge_id, 0)
    return len(challenge_ids)
