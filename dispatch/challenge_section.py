"""A challenge's release plan as a section of the challenge (challenges/sections.py):
its form, its admin inline and its fields in the challenge's API description."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.utils.safestring import SafeString
from rest_framework import serializers

from challenges.sections import ChallengeSection, SectionForm, SectionInline
from dispatch.forms import destinations_by_name
from dispatch.models import ReleasePlan
from dispatch.planning import PlanError, parse_proportions
from dispatch.release_chart import preview_table
from dispatch.release_preview import release_preview
from dispatch.selectors import destinations_owned_by


class ReleasePlanForm(SectionForm):
    class Meta:
        model = ReleasePlan
        fields = [
            "first_release_at",
            "release_proportions",
            "release_rows",
            "release_interval_seconds",
            "release_cumulative",
            "release_format",
            "destinations",
            "destinations_per_release",
            "release_per_participant",
            "release_downloads",
        ]

    def name_references(self, owner: Any) -> None:
        self.fields["destinations"] = destinations_by_name(owner, many=True)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        proportions, rows = self.value("release_proportions"), self.value("release_rows")
        if rows and proportions and proportions.strip() not in ("", "1"):
            self.add_error(
                "release_rows", "Give either release proportions or rows per release, not both."
            )
            return cleaned
        if not rows:
            try:
                parse_proportions(proportions or "1")
            except PlanError as error:
                self.add_error("release_proportions", str(error))
        destinations = self.value("destinations")
        count = (
            len(destinations)
            if destinations is not None and "destinations" in self.fields
            else None
        )
        if count and not self.value("first_release_at"):
            self.add_error(
                "first_release_at", "Give the time of the first release, or choose no destination."
            )
        subset = self.value("destinations_per_release")
        if subset and count is not None and subset > count:
            self.add_error(
                "destinations_per_release",
                f"Only {count} destination(s) are chosen; pick at most that many.",
            )
        return cleaned


class ReleasePlanInline(SectionInline):
    model = ReleasePlan
    form = ReleasePlanForm
    verbose_name = "releases"
    verbose_name_plural = "releases"
    filter_horizontal = ("destinations",)
    # Not frozen on publish: "Re-plan releases" rebuilds the releases not yet started.
    computed = ("release_contents",)

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "destinations":
            kwargs["queryset"] = destinations_owned_by(request.user)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    @admin.display(description="what each release holds")
    def release_contents(self, obj: ReleasePlan) -> SafeString:
        if obj.challenge_id is None:  # the add page: nothing saved yet
            return preview_table(release_preview(None))
        return preview_table(release_preview(obj.challenge))


class ReleasePlanSerializer(serializers.Serializer[Any]):
    release_format = serializers.CharField(source="release_plan.release_format")
    release_cumulative = serializers.BooleanField(source="release_plan.release_cumulative")
    release_downloads = serializers.BooleanField(source="release_plan.release_downloads")


class ReleaseScheduleSerializer(serializers.Serializer[Any]):
    sequence = serializers.IntegerField()
    due_at = serializers.DateTimeField()
    rows = serializers.IntegerField()


class ReleasePlanDetailSerializer(serializers.Serializer[Any]):
    releases = ReleaseScheduleSerializer(many=True, source="release_plan.releases")


RELEASE_PLAN_SECTION = ChallengeSection(
    model=ReleasePlan,
    form=ReleasePlanForm,
    inline=ReleasePlanInline,
    serializer=ReleasePlanSerializer,
    detail_serializer=ReleasePlanDetailSerializer,
    position=40,
)
