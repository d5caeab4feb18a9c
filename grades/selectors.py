"""A challenge's grades: the leaderboard's rows, row for row and in its order,
with what grading adds (questions, missing work, the mark); then the enrolled
students the leaderboard has no row for (nothing submitted, no endpoint, no
question), who have everything missing.

A team's leaderboard row becomes one row per member, in the order of their
names: each member gets the team's result (its rank, represented submission,
scores, costs, submission count and live endpoint) and so the same score
components; their questions and receipt score are their own (each student
answers for the data they received).

Missing work, flagged per student:
- `no_scored_submission`: no submission scored on the part of the test set the
  ranking uses (public before the close, private after), so no rank;
- `no_endpoint`: no endpoint ever registered, when endpoints count (another
  student registered one, or an endpoint component has a weight);
- `questions_missed`: proof-of-receipt questions not answered by their deadline
  (answers after it are refused, so a late answer is a missed one).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, Q
from django.utils import timezone

from challenges.models import Challenge, Participant
from challenges.selectors import challenges_owned_by
from grades.marks import Scaling, formula_lines, mark, normalise
from grades.models import COMPONENTS, GradeWeights
from judging.leaderboard import LeaderboardRow, leaderboard
from receipts.models import Question, Verdict
from receipts.selectors import receipt_scores

NO_SCORED_SUBMISSION = "no_scored_submission"
NO_ENDPOINT = "no_endpoint"
QUESTIONS_MISSED = "questions_missed"
MISSING_LABELS = {
    NO_SCORED_SUBMISSION: "no scored submission",
    NO_ENDPOINT: "no endpoint registered",
    QUESTIONS_MISSED: "questions unanswered by their deadline",
}
ENDPOINT_COMPONENTS = ("endpoint_uptime", "endpoint_sla", "endpoint_freshness")


@dataclass(frozen=True)
class QuestionCounts:
    posed: int = 0
    answered: int = 0
    correct: int = 0
    partial: int = 0
    missed: int = 0
    open: int = 0


@dataclass(frozen=True)
class GradeRow:
    rank: int | None
    participant: str
    mark: float
    submission_id: int | None
    # Which submission represents the student: "selected", "promoted", "best"
    # (no pick: the best public score) or "" (none scored).
    represented_by: str
    public_score: float | None
    private_score: float | None
    cpu_seconds: float | None
    peak_memory_mb: float | None
    submissions: int
    endpoint_registered: bool
    endpoint_uptime: float | None
    endpoint_sla: float | None
    endpoint_releases_behind: int | None
    questions: QuestionCounts
    receipt_score: float | None
    missing: tuple[str, ...]
    # Each component in 0..1 (grades.marks), None when the student has no value.
    components: dict[str, float | None] = field(default_factory=dict)
    # The student's team ("": alone), whose result the row gives.
    team: str = ""

    @property
    def missing_text(self) -> str:
        return "; ".join(MISSING_LABELS[flag] for flag in self.missing)


@dataclass(frozen=True)
class Grades:
    challenge: Challenge
    final: bool
    weights: dict[str, float]
    out_of: float
    rows: list[GradeRow]
    # How the score and the costs were scaled (the others are shares).
    scalings: dict[str, Scaling] = field(default_factory=dict)

    @property
    def formula_lines(self) -> list[str]:
        """The formula these marks were computed with, in the teacher's numbers."""
        return formula_lines(self.weights, self.out_of, self.scalings, dict(COMPONENTS))

    @property
    def formula(self) -> str:
        return "\n".join(self.formula_lines)

    @property
    def note(self) -> str:
        if self.final:
            return "Final: ranks, scores and marks use the private part of the test set."
        return (
            "Provisional: the challenge closes at "
            f"{self.challenge.closes_at.isoformat()}; until then ranks, scores and "
            "marks use the public part of the test set."
        )


def grade_weights_of(challenge: Challenge) -> GradeWeights:
    """The challenge's saved weights, or the defaults (unsaved) if it has none."""
    saved = GradeWeights.objects.filter(challenge=challenge).first()
    return saved or GradeWeights(challenge=challenge)


def grades_challenge_for(user: AbstractBaseUser | AnonymousUser, slug: str) -> Challenge | None:
    """The challenge `slug` if the user teaches it (a superuser: any)."""
    return challenges_owned_by(user).filter(slug=slug).first()


def _question_counts(challenge: Challenge, now: datetime) -> dict[int, QuestionCounts]:
    past_deadline = Q(deadline__lte=now)
    rows = (
        Question.objects.filter(participant__challenge=challenge)
        .order_by()
        .values("participant_id")
        .annotate(
            posed=Count("id"),
            answered=Count("id", filter=Q(answered_at__isnull=False)),
            correct=Count("id", filter=Q(verdict=Verdict.CORRECT)),
            partial=Count("id", filter=Q(verdict=Verdict.PARTIAL)),
            # The reaper marks them missed at beat's next tick: do not wait for it.
            missed=Count(
                "id",
                filter=Q(verdict=Verdict.MISSED) | (Q(verdict=Verdict.OPEN) & past_deadline),
            ),
            open=Count("id", filter=Q(verdict=Verdict.OPEN) & ~past_deadline),
        )
    )
    return {row.pop("participant_id"): QuestionCounts(**row) for row in rows}


def _represented_by(row: LeaderboardRow) -> str:
    if row.submission_id is None:
        return ""
    if row.promoted:
        return "promoted"
    return "selected" if row.selected else "best"


def _missing(row: LeaderboardRow, questions: QuestionCounts, endpoints_count: bool) -> list[str]:
    missing = []
    if row.rank is None:
        missing.append(NO_SCORED_SUBMISSION)
    if endpoints_count and not row.endpoint_registered:
        missing.append(NO_ENDPOINT)
    if questions.missed:
        missing.append(QUESTIONS_MISSED)
    return missing


def _absent_row(username: str) -> LeaderboardRow:
    """A student with no leaderboard row: nothing submitted, registered or asked."""
    return LeaderboardRow(
        rank=None,
        participant=username,
        submission_id=None,
        selected=False,
        public_score=None,
        private_score=None,
        cv_mean=None,
        cv_std=None,
        cpu_seconds=None,
        peak_memory_mb=None,
        fit_seconds=None,
        submissions=0,
        last_submission_at=None,
    )


def _per_student(rows: list[LeaderboardRow], receipts: dict[str, float]) -> list[LeaderboardRow]:
    """A team's row once per member, named for them, with their own receipt score."""
    return [
        replace(row, participant=name, receipt_score=receipts.get(name)) if row.team else row
        for row in rows
        for name in (row.members if row.team else (row.participant,))
    ]


def _raw_components(row: LeaderboardRow, final: bool) -> dict[str, Any]:
    return {
        "score": row.private_score if final else row.public_score,
        "cpu_seconds": row.cpu_seconds,
        "peak_memory_mb": row.peak_memory_mb,
        "endpoint_uptime": row.endpoint_uptime,
        "endpoint_sla": row.endpoint_sla,
        "endpoint_freshness": row.endpoint_releases_behind,
        "receipts": row.receipt_score,
    }


def challenge_grades(
    challenge: Challenge, *, weights: GradeWeights | None = None, now: datetime | None = None
) -> Grades:
    """Every enrolled student's results and mark under `weights` (default: the
    saved ones); provisional (public scores) until the close."""
    now = now or timezone.now()
    weights = weights or grade_weights_of(challenge)
    weight_of = weights.as_dict()
    board = leaderboard(challenge, now=now)
    usernames = dict(
        Participant.objects.filter(challenge=challenge).values_list("id", "user__username")
    )
    by_name = {
        usernames[participant_id]: counts
        for participant_id, counts in _question_counts(challenge, now).items()
    }
    receipts = (
        {usernames[pk]: score for pk, score in receipt_scores(challenge).items()}
        if challenge.receipt_rules.receipt_questions
        else {}
    )
    students = _per_student(board.rows, receipts)
    listed = {row.participant for row in students}
    board_rows = [
        *students,
        *(_absent_row(name) for name in sorted(set(usernames.values()) - listed)),
    ]
    endpoints_count = board.has_endpoints or any(weight_of[k] > 0 for k in ENDPOINT_COMPONENTS)
    raw = [_raw_components(row, board.final) for row in board_rows]
    scalings = weights.scalings()
    scaled = normalise({key: [values[key] for values in raw] for key, _ in COMPONENTS}, scalings)
    rows = []
    for index, row in enumerate(board_rows):
        questions = by_name.get(row.participant, QuestionCounts())
        components = {key: scaled[key][index] for key, _ in COMPONENTS}
        rows.append(
            GradeRow(
                rank=row.rank,
                participant=row.participant,
                mark=mark(components, weight_of, weights.out_of),
                submission_id=row.submission_id,
                represented_by=_represented_by(row),
                public_score=row.public_score,
                private_score=row.private_score,
                cpu_seconds=row.cpu_seconds,
                peak_memory_mb=row.peak_memory_mb,
                submissions=row.submissions,
                endpoint_registered=row.endpoint_registered,
                endpoint_uptime=row.endpoint_uptime,
                endpoint_sla=row.endpoint_sla,
                endpoint_releases_behind=row.endpoint_releases_behind,
                questions=questions,
                receipt_score=row.receipt_score,
                missing=tuple(_missing(row, questions, endpoints_count)),
                components=components,
                team=row.team,
            )
        )
    return Grades(
        challenge=challenge,
        final=board.final,
        weights=weight_of,
        out_of=weights.out_of,
        rows=rows,
        scalings=scalings,
    )
