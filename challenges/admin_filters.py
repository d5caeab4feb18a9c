"""The challenge filter the apps' admin lists share: it offers a teacher only
their own challenges."""

from __future__ import annotations

from typing import Any, TypeVar

from django.contrib import admin
from django.db.models import Model, QuerySet
from django.http import HttpRequest

from challenges.models import Challenge
from challenges.selectors import owned_by

M = TypeVar("M", bound=Model)


class OwnChallengeFilter(admin.SimpleListFilter):
    """Only the teacher's own challenges are offered as filters. Subclasses name the
    lookup from their model to the challenge's id."""

    title = "challenge"
    parameter_name = "challenge"
    challenge_lookup = "challenge_id"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        # Only the ids and slugs: every list page builds this sidebar, and the
        # challenges with all their sections are a wide join.
        mine = owned_by(Challenge.objects.all(), request.user, owner="owner_id")
        return [(str(pk), slug) for pk, slug in mine.values_list("pk", "slug")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[M]) -> QuerySet[M]:
        value = self.value()
        return queryset.filter(**{self.challenge_lookup: value}) if value else queryset
