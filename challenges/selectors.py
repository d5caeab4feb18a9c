from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

from challenges.models import Challenge


def challenges_owned_by(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Challenge]:
    """Challenges a teacher manages: their own; a superuser manages all."""
    queryset = Challenge.objects.select_related("owner", "split")
    if getattr(user, "is_superuser", False):
        return queryset
    if not user.is_authenticated:
        return queryset.none()
    return queryset.filter(owner_id=user.pk)
