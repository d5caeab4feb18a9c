from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, Q, QuerySet

from challenges.models import Challenge
from challenges.selectors import owned_by
from dispatch.models import Destination, Release, Transaction, TransactionState


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
