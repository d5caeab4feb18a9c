from __future__ import annotations

from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, Q, QuerySet

from challenges.models import Challenge, Participant
from challenges.selectors import owned_by
from dispatch.models import Destination, Release, Transaction, TransactionState
from dispatch.planning import PlannedRelease, parse_proportions, plan_releases


def destinations_owned_by(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Destination]:
    return owned_by(Destination.objects.select_related("owner"), user, owner="owner_id")


def transactions_visible_to(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Transaction]:
    queryset = Transaction.objects.select_related("release__challenge", "destination")
    return owned_by(queryset, user, owner="release__challenge__owner_id")


def release_timeline(challenge: Challenge) -> list[Release]:
    """Each release of a challenge with its transactions, in two queries."""
    return list(
        Release.objects.filter(challenge=challenge)
        .prefetch_related("transactions__destination")
        .order_by("sequence")
    )


def transaction_counts(challenges: QuerySet[Challenge]) -> QuerySet[Challenge]:
    """Annotate each challenge with its transactions per state (one query for a page)."""
    return challenges.annotate(
        **{
            f"tx_{state}": Count(
                "releases__transactions", filter=Q(releases__transactions__state=state)
            )
            for state in TransactionState.values
        }
    )


def planned_releases(
    challenge: Challenge, *, total_rows: int, first_release_at: datetime
) -> list[PlannedRelease]:
    """The releases the challenge's release plan makes of `total_rows` training rows.
    Raises PlanError when the plan does not fit them."""
    plan = challenge.release_plan
    return plan_releases(
        total_rows=total_rows,
        proportions=None
        if plan.release_rows
        else parse_proportions(plan.release_proportions or "1"),
        rows_per_release=plan.release_rows,
        first_release_at=first_release_at,
        interval=timedelta(seconds=plan.release_interval_seconds),
        cumulative=plan.release_cumulative,
        destination_ids=list(plan.destinations.values_list("id", flat=True)),
        destinations_per_release=plan.destinations_per_release,
        seed=challenge.split_seed,
    )


def releases_delivered_to(participant: Participant) -> list[Release]:
    """The releases that reached this student: those with a finished upload to a
    shared destination or to this student's own folder, in order. A release still
    due, or whose uploads all failed, is not theirs yet."""
    delivered = Q(transactions__state=TransactionState.DONE) & (
        Q(transactions__participant=participant) | Q(transactions__participant__isnull=True)
    )
    return list(
        Release.objects.filter(delivered, challenge_id=participant.challenge_id)
        .distinct()
        .order_by("sequence")
    )
