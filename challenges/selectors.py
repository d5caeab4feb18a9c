from __future__ import annotations

from typing import TypeVar

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Model, QuerySet

from challenges.models import Challenge

M = TypeVar("M", bound=Model)


def owned_by(
    queryset: QuerySet[M], user: AbstractBaseUser | AnonymousUser, *, owner: str
) -> QuerySet[M]:
    """What a teacher manages: rows whose `owner` lookup is them; a superuser manages all."""
    if getattr(user, "is_superuser", False):
        return queryset
    if not user.is_authenticated:
        return queryset.none()
    return queryset.filter(**{owner: user.pk})


def challenges_owned_by(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Challenge]:
    return owned_by(Challenge.objects.select_related("owner", "split"), user, owner="owner_id")
