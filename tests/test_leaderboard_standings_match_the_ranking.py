"""The standings PostgreSQL keeps as submissions change (judging/models.py
`LeaderboardStanding`) are always what ranking every submission gives: after
results, failures, cancellations, re-judging, picks and promotions, deletions,
new costs and contributivity,
with or without private scores, before and after the close; and the migration's
backfill computes them for submissions recorded before it."""

from __future__ import annotations

import random
import threading
from typing import Any

import pytest
from django.db import connection, transaction

from challenges.models import Challenge, Participant
from judging.leaderboard import leaderboard, standings_computed, standings_kept
from judging.models import (
    LeaderboardImprovement,
    LeaderboardStanding,
    Submission,
    SubmissionState,
)
from judging.picks import submission_promote, submission_select, submission_unselect
from judging.services import submission_cancel, submission_rejudge
from judging.standing_sql import BACKFILL
from tests.factories import SubmissionFactory
from tests.submissions import participants, published_challenge
from tests.teams import team

State = SubmissionState


def summary(challenge: Challenge, final: bool, kept: bool) -> dict[int, tuple[Any, ...]]:
    standings = (standings_kept if kept else standings_computed)(challenge, final)
    return {who: (s.best, s.made, s.last, s.picked) for who, s in standings.items()}


def assert_kept_equals_computed(challenge: Challenge) -> None:
    for final in (False, True):
        computed = summary(challenge, final, kept=False)
        assert summary(challenge, final, kept=True) == computed, f"final={final}"


def submission(participant: Participant, state: str, **fields: Any) -> Submission:
    return SubmissionFactory(participant=participant, state=state, **fields)


@pytest.mark.django_db
def test_a_standing_is_kept_for_each_participant_with_submissions() -> None:
    challenge = published_challenge()
    ada, grace, _nobody_yet = participants(challenge, 3)
    submission(ada, State.SCORED, public_score=0.7, private_score=0.6)
    submission(ada, State.FAILED)
    submission(grace, State.CANCELLED)

    assert set(LeaderboardStanding.objects.values_list("participant_id", flat=True)) == {
        ada.pk,
        grace.pk,
    }
    assert_kept_equals_computed(challenge)
    assert summary(challenge, False, kept=True)[grace.pk][:2] == (None, 0)
    best = summary(challenge, True, kept=True)[ada.pk][0]
    assert best is not None
    assert (best.public_score, best.private_score) == (0.7, 0.6)


@pytest.mark.django_db
def test_standings_follow_results_picks_cancellations_rejudging_and_deletions() -> None:
    challenge = published_challenge(final_selections=2)
    ada, grace = participants(challenge, 2)
    first = submission(ada, State.SCORED, public_score=0.8, private_score=0.5)
    second = submission(ada, State.SCORED, public_score=0.6, private_score=0.9)
    waiting = submission(ada, State.NEW)
    theirs = submission(grace, State.SCORED, public_score=0.7, private_score=None)
    assert_kept_equals_computed(challenge)

    # A result recorded, a pick, a promotion, a pick taken back.
    Submission.objects.filter(pk=waiting.pk).update(
        state=State.SCORED, public_score=0.95, private_score=0.4
    )
    assert_kept_equals_computed(challenge)
    submission_select(submission=second)
    assert_kept_equals_computed(challenge)
    submission_promote(submission=theirs, by="the teacher")
    assert_kept_equals_computed(challenge)
    submission_unselect(submission=second)
    assert_kept_equals_computed(challenge)

    # Re-judging clears the scores; a cancellation; deletions, the last one too.
    submission_rejudge(submission=first)
    assert_kept_equals_computed(challenge)
    assert submission_cancel(submission=first, revoke=lambda task_id: None)
    assert_kept_equals_computed(challenge)
    Submission.objects.filter(pk=waiting.pk).delete()
    assert_kept_equals_computed(challenge)
    theirs.delete()
    assert_kept_equals_computed(challenge)
    assert not LeaderboardStanding.objects.filter(participant=grace).exists()


@pytest.mark.django_db
def test_standings_match_after_a_random_history_of_changes() -> None:
    challenge = published_challenge(final_selections=2)
    people = participants(challenge, 4)
    rng = random.Random(22)
    rows: list[Submission] = []
    for step in range(120):
        action = rng.choice(
            ["submit", "score", "fail", "cancel", "pick", "unpick", "measure", "delete", "progress"]
        )
        if action == "submit" or not rows:
            rows.append(submission(rng.choice(people), State.NEW))
        else:
            row = rng.choice(rows)
            chosen = Submission.objects.filter(pk=row.pk)
            if action == "score":
                # Ties on purpose: equal scores go to the earliest.
                public = rng.choice([0.5, 0.7, 0.7, 0.9])
                private = rng.choice([None, 0.6, 0.8, 0.8])
                chosen.update(state=State.SCORED, public_score=public, private_score=private)
            elif action == "fail":
                chosen.update(state=State.FAILED, public_score=None, private_score=None)
            elif action == "cancel":
                chosen.update(state=State.CANCELLED)
            elif action == "pick":
                chosen.update(**{rng.choice(["selected", "promoted"]): True})
            elif action == "unpick":
                chosen.update(selected=False, promoted=False)
            elif action == "progress":
                # The feeder's claim, a start, a retry: from any state, as a rejudge can.
                chosen.update(state=rng.choice([State.NEW, State.QUEUED, State.RUNNING]))
            elif action == "measure":
                # What the row shows beside the score: costs, contributivity.
                chosen.update(cpu_seconds=rng.uniform(1, 9), contributivity=rng.uniform(0, 50))
            else:
                chosen.delete()
                rows.remove(row)
        assert_kept_equals_computed(challenge), f"after step {step}: {action}"


def kept_row_versions() -> tuple[list[tuple[int, str]], list[int]]:
    """Each standing's row version (a recomputation writes a new one, even with the
    same values) and the history points' ids (a recomputation writes new rows)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, ctid::text FROM judging_leaderboardstanding ORDER BY id")
        standings = [(int(pk), str(ctid)) for pk, ctid in cursor.fetchall()]
    return standings, sorted(LeaderboardImprovement.objects.values_list("id", flat=True))


@pytest.mark.django_db
def test_a_claim_a_start_a_retry_or_a_failure_recomputes_nothing_kept() -> None:
    challenge = published_challenge()
    ada, grace = participants(challenge, 2)
    submission(ada, State.SCORED, public_score=0.7, private_score=0.6, cpu_seconds=1.0)
    row = submission(ada, State.NEW)
    submission(grace, State.SCORED, public_score=0.5, private_score=0.5, cpu_seconds=1.0)
    untouched = kept_row_versions()
    assert untouched[0]
    assert untouched[1]

    # None of these moves a standing or a point (migration judging 0012).
    for state in (State.QUEUED, State.RUNNING, State.NEW, State.QUEUED, State.RUNNING):
        Submission.objects.filter(pk=row.pk).update(state=state, worker="judge@host")
        assert kept_row_versions() == untouched, state
    Submission.objects.filter(pk=row.pk).update(state=State.FAILED)
    assert kept_row_versions() == untouched
    assert_kept_equals_computed(challenge)

    # A cancellation changes what ada made; a result, her best: both recompute.
    Submission.objects.filter(pk=row.pk).update(state=State.CANCELLED)
    assert kept_row_versions()[0] != untouched[0]
    assert_kept_equals_computed(challenge)
    Submission.objects.filter(pk=row.pk).update(state=State.SCORED, public_score=0.9)
    assert kept_row_versions()[1] != untouched[1]
    assert_kept_equals_computed(challenge)


@pytest.mark.django_db
def test_the_leaderboard_reads_the_kept_standings_for_teams_and_the_final_ranking() -> None:
    challenge = published_challenge(final_selections=2, team_size=2)
    ada, grace, alan = participants(challenge, 3)
    team("owls", ada, grace)
    submission(ada, State.SCORED, public_score=0.9, private_score=0.5)
    picked = submission(grace, State.SCORED, public_score=0.6, private_score=0.7, selected=True)
    submission(alan, State.SCORED, public_score=0.8, private_score=0.8)

    final = leaderboard(challenge, now=challenge.closes_at)

    assert [(row.participant, row.submission_id, row.picks) for row in final.rows] == [
        (f"{alan.user.username}", alan.submissions.get().pk, 0),
        (f"owls ({ada.user.username}, {grace.user.username})", picked.pk, 1),
    ]


@pytest.mark.django_db
def test_the_migrations_backfill_computes_standings_already_recorded() -> None:
    challenge = published_challenge()
    ada, grace = participants(challenge, 2)
    submission(ada, State.SCORED, public_score=0.7, private_score=0.6, promoted=True)
    submission(grace, State.FAILED)
    expected = {final: summary(challenge, final, kept=True) for final in (False, True)}
    LeaderboardStanding.objects.all().delete()
    assert summary(challenge, False, kept=True) == {}

    with connection.cursor() as cursor:
        cursor.execute(BACKFILL)

    assert {final: summary(challenge, final, kept=True) for final in (False, True)} == expected
    assert_kept_equals_computed(challenge)


@pytest.mark.django_db(transaction=True)
def test_two_writers_of_one_participant_at_once_leave_the_standing_right() -> None:
    challenge = published_challenge()
    (ada,) = participants(challenge, 1)
    low = submission(ada, State.NEW)
    high = submission(ada, State.NEW)
    first_wrote = threading.Event()
    errors: list[BaseException] = []

    def score(row: Submission, value: float, wait: bool) -> None:
        try:
            with transaction.atomic():
                Submission.objects.filter(pk=row.pk).update(
                    state=State.SCORED, public_score=value, private_score=value
                )
                if wait:
                    # Hold the transaction open: the other writer computes meanwhile.
                    first_wrote.set()
                    threading.Event().wait(1.0)
        except BaseException as error:  # reported by the assertion below
            errors.append(error)
        finally:
            first_wrote.set()
            connection.close()

    # The better result's transaction stays open while the worse one is recorded:
    # without the lock, the second would rank from a snapshot without the first
    # and write its stale standing last. (On a machine too busy to start the
    # second writer within the second, the two run one after the other and the
    # test proves less, never fails wrongly.)
    holder = threading.Thread(target=score, args=(high, 0.9, True))
    holder.start()
    assert first_wrote.wait(60)
    other = threading.Thread(target=score, args=(low, 0.5, False))
    other.start()
    holder.join(120)
    other.join(120)

    assert errors == []
    best = summary(challenge, False, kept=True)[ada.pk][0]
    assert best is not None
    assert best.id == high.pk
    assert_kept_equals_computed(challenge)
