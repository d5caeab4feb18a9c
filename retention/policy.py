"""Which runs keep their artifacts and which have them removed, and when.

Kept for good, whatever the challenge's rules say:
- runs still waiting or running (their artifacts are not even written yet);
- runs a student selected for the final ranking, and runs the teacher promoted;
- each student's best run: by public score, by private score and by
  cross-validation mean (the leaderboard, the final ranking and the grades read
  these; ties go to the earlier run, as the ranking's do);
- runs a reproduction refers to (its report compares against them);
- runs the contributivity blend reads (their out-of-fold predictions).
Every other run loses its artifacts `keep_days` days after it ended (the
challenge's, or PPIPE_RETENTION_DAYS), or sooner when a threshold rule of the
challenge applies to it: a public score below a threshold (or none: failed,
cancelled), or a latency SLA missed. Its row, scores, code and timeline stay.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Exists, OuterRef, QuerySet
from django.db.models.functions import Coalesce

from challenges.models import Challenge
from judging.contributivity import blend_candidate_ids
from judging.models import (
    ENDED_STATES,
    ConfigurationResult,
    Reproduction,
    Submission,
    SubmissionState,
)
from retention.models import RetentionRules


@dataclass(frozen=True)
class Policy:
    keep_days: int  # 0: kept for good (threshold rules may still apply)
    low_score_below: float | None = None
    low_score_days: int | None = None
    sla_missed_days: int | None = None

    @property
    def shortest_days(self) -> int | None:
        """The fewest days any rule keeps a run; None when no rule ever expires one."""
        days = [d for d in (self.keep_days, self._low_days, self.sla_missed_days) if d]
        return min(days) if days else None

    @property
    def _low_days(self) -> int | None:
        return self.low_score_days if self.low_score_below is not None else None

    def expiry(
        self, *, public_score: float | None, sla_missed: bool, state: str
    ) -> tuple[int, str] | None:
        """(days kept after the run ended, why), the shortest rule that applies."""
        rules: list[tuple[int, str]] = []
        if self.keep_days:
            rules.append((self.keep_days, f"kept {self.keep_days} days after it ended"))
        if self._low_days:
            if public_score is None:
                rules.append((self._low_days, f"no score ({state}): kept {self._low_days} days"))
            elif public_score < float(self.low_score_below or 0.0):
                rules.append(
                    (
                        self._low_days,
                        f"public score below {self.low_score_below:g}: kept {self._low_days} days",
                    )
                )
        if self.sla_missed_days and sla_missed:
            rules.append(
                (self.sla_missed_days, f"missed a latency SLA: kept {self.sla_missed_days} days")
            )
        return min(rules) if rules else None

    def describe(self) -> str:
        parts = [
            f"artifacts kept {self.keep_days} days after a run ended"
            if self.keep_days
            else "artifacts kept for good"
        ]
        if self._low_days:
            parts.append(
                f"{self._low_days} days for a public score below {self.low_score_below:g} or none"
            )
        if self.sla_missed_days:
            parts.append(f"{self.sla_missed_days} days for a missed latency SLA")
        return "; ".join(parts)


def policy_of(challenge_id: int) -> Policy:
    """The challenge's rules, the platform's default filling what they leave empty."""
    rules = RetentionRules.objects.filter(challenge_id=challenge_id).first()
    default = settings.PPIPE_RETENTION_DAYS
    if rules is None:
        return Policy(keep_days=default)
    return Policy(
        keep_days=default if rules.keep_days is None else rules.keep_days,
        low_score_below=rules.low_score_below,
        low_score_days=rules.low_score_days,
        sla_missed_days=rules.sla_missed_days,
    )


def best_of_each_student(challenge_id: int) -> set[int]:
    """Each participant's best run by public score, private score and
    cross-validation mean (the earliest of equals)."""
    best: dict[tuple[int, int], tuple[float, int]] = {}
    rows = (
        Submission.objects.filter(challenge_id=challenge_id, state=SubmissionState.SCORED)
        .order_by("created_at", "id")
        .values_list("id", "participant_id", "public_score", "private_score", "cv_mean")
    )
    for pk, participant, *scores in rows.iterator(chunk_size=2000):
        for which, score in enumerate(scores):
            if score is None:
                continue
            held = best.get((participant, which))
            if held is None or score > held[0]:
                best[(participant, which)] = (score, pk)
    return {pk for _, pk in best.values()}


def kept_by_rank(challenge: Challenge) -> set[int]:
    """Kept runs the rows' own flags do not show: the best ones and the blend's."""
    return best_of_each_student(challenge.pk) | blend_candidate_ids(challenge)


@dataclass(frozen=True)
class ExpiredRun:
    submission_id: int
    challenge_id: int
    participant_id: int
    ended_at: datetime
    reason: str
    artifacts: dict[str, str]


def collectable_rows(ids: list[int] | None = None) -> QuerySet[Submission]:
    """Runs that may lose their artifacts on the rows' own flags: ended, with
    artifacts, neither selected nor promoted, no reproduction referring to them.
    The collector checks this again under the rows' locks (retention/services.py)."""
    rows = Submission.objects.all() if ids is None else Submission.objects.filter(pk__in=ids)
    return (
        rows.filter(state__in=ENDED_STATES, selected=False, promoted=False)
        .exclude(artifacts={})
        .exclude(Exists(Reproduction.objects.filter(submission=OuterRef("pk"))))
    )


def collectable(challenge_id: int) -> QuerySet[Submission]:
    return collectable_rows().filter(challenge_id=challenge_id)


def expired_runs(
    challenge: Challenge, *, now: datetime, limit: int | None = None
) -> list[ExpiredRun]:
    """The challenge's runs whose artifacts its policy lets go now, oldest first."""
    policy = policy_of(challenge.pk)
    shortest = policy.shortest_days
    if shortest is None:
        return []
    candidates = (
        collectable(challenge.pk)
        .annotate(
            ended_at=Coalesce("finished_at", "created_at"),
            sla_missed=Exists(
                ConfigurationResult.objects.filter(submission=OuterRef("pk"), sla_met=False)
            ),
        )
        .filter(ended_at__lt=now - timedelta(days=shortest))
        .order_by("ended_at", "id")
        .values_list(
            "id", "participant_id", "ended_at", "public_score", "sla_missed", "state", "artifacts"
        )
    )
    kept = kept_by_rank(challenge)
    expired: list[ExpiredRun] = []
    for pk, participant, ended_at, score, sla_missed, state, artifacts in candidates.iterator(
        chunk_size=2000
    ):
        if pk in kept:
            continue
        rule = policy.expiry(public_score=score, sla_missed=sla_missed, state=state)
        if rule is None or ended_at >= now - timedelta(days=rule[0]):
            continue
        expired.append(
            ExpiredRun(pk, challenge.pk, participant, ended_at, rule[1], dict(artifacts))
        )
        if limit is not None and len(expired) >= limit:
            break
    return expired
