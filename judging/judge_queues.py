"""Reads for the judge feeder: what waits for which judge queue, in what order.

Queues are found per challenge (one grouped count on the submissions' state,
then each challenge's judging rules) rather than through a join per submission,
and the students' turns are ranked on the partial index of waiting submissions
(`submission_waiting_turns`: participant, created_at, id where state is new), so
a feed reads the waiting rows in turn order without sorting them.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db.models import Count, F, QuerySet, Subquery, Window
from django.db.models.functions import RowNumber

from judging.models import JudgingRules, Submission, SubmissionState

State = SubmissionState


@dataclass(frozen=True)
class QueueToFill:
    queue: str  # empty: the shared pool
    free: int  # places left in the broker, up to PPIPE_JUDGE_QUEUE_DEPTH
    challenge_ids: list[int]  # the challenges with submissions waiting for it


def judge_queues_to_fill() -> list[QueueToFill]:
    """The judge queues with submissions waiting and room in the broker."""
    counts = list(
        Submission.objects.filter(state__in=(State.NEW, State.QUEUED))
        .order_by()
        .values_list("challenge_id", "state")
        .annotate(count=Count("id"))
    )
    queue_of = dict(
        JudgingRules.objects.filter(challenge_id__in={row[0] for row in counts}).values_list(
            "challenge_id", "judge_queue"
        )
    )
    queued: dict[str, int] = {}
    waiting_in: dict[str, list[int]] = {}
    for challenge_id, state, count in counts:
        queue = queue_of.get(challenge_id, "")
        if state == State.QUEUED:
            queued[queue] = queued.get(queue, 0) + count
        else:
            waiting_in.setdefault(queue, []).append(challenge_id)
    depth = settings.PPIPE_JUDGE_QUEUE_DEPTH
    return [
        QueueToFill(queue, depth - queued.get(queue, 0), challenge_ids)
        for queue, challenge_ids in waiting_in.items()
        if depth - queued.get(queue, 0) > 0
    ]


def fair_queue(challenge_ids: list[int]) -> QuerySet[Submission]:
    """Waiting submissions of these challenges, participants taken in turns:
    everyone's oldest first, then everyone's second oldest, and so on, so one
    student's fifty submissions wait behind a classmate's single one."""
    return (
        Submission.objects.filter(state=State.NEW, challenge_id__in=challenge_ids)
        .annotate(
            turn=Window(
                RowNumber(), partition_by=[F("participant_id")], order_by=[F("created_at"), F("id")]
            )
        )
        .order_by("turn", "created_at", "id")
    )


def judge_queue_waiting(submission_id: int) -> int:
    """Jobs waiting in the broker on the judge queue this submission is judged on."""
    its_queue = JudgingRules.objects.filter(challenge__submissions=submission_id).values(
        "judge_queue"
    )[:1]
    return (
        Submission.objects.filter(
            state=State.QUEUED,
            challenge_id__in=JudgingRules.objects.filter(judge_queue=Subquery(its_queue)).values(
                "challenge_id"
            ),
        )
        .order_by()
        .count()
    )
