from __future__ import annotations

from django.db.models import QuerySet

from retention.models import CollectionPass, StoreUsage


def store_usage_by_challenge() -> QuerySet[StoreUsage]:
    """What the last collector pass measured per challenge, the largest first."""
    return StoreUsage.objects.select_related("challenge").order_by("-bytes", "challenge_id")


def last_collection_pass() -> CollectionPass | None:
    return CollectionPass.objects.filter(finished_at__isnull=False).first()
