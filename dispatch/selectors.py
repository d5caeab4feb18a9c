from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Count, Q, QuerySet

from challenges.models import Challenge
from dispatch.models import Destination, Release, Transaction, TransactionState


def destinations_owned_by(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Destination]:
    queryset = Destination.objects.select_related("owner")
    if getattr(user, "is_superuser", False):
        return queryset
    if not user.is_authenticated:
        return queryset.none()
    return queryset.filter(owner_id=user.pk)


def transactions_visible_to(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Transaction]:
    queryset = Transaction.objects.select_related("release__challenge", "destination")
    if getattr(user, "is_superuser", False):
        return queryset
    if not user.is_authenticated:
        return queryset.none()
    return queryset.filter(release__challenge__owner_id=user.pk)


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
