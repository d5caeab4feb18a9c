from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html

from challenges.admin_publishing import ChallengePublishingAdmin
from challenges.forms import ChallengeForm
from challenges.models import Challenge, Participant
from challenges.roster import (
    RosterError,
    roster_accounts_download,
    roster_import,
    roster_parse,
)
from challenges.sections import challenge_sections
from challenges.selectors import challenges_owned_by
from challenges.services import participant_enroll
from foundation.unique_races import validated_again_after_a_unique_race


class PublishedFilter(admin.SimpleListFilter):
    title = "publication"
    parameter_name = "published"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("no", "Draft"), ("yes", "Published")]

    def queryset(self, request: HttpRequest, queryset: QuerySet[Challenge]) -> QuerySet[Challenge]:
        if self.value() in ("yes", "no"):
            return queryset.filter(published_at__isnull=self.value() == "no")
        return queryset


class ChallengeAdmin(ChallengePublishingAdmin):
    """The challenge's core, with every app's section as an inline below it
    (challenges/sections.py). The site registers it (ppipe_site/admin.py),
    adding what spans the apps: release counts, re-plan, rejudge, the release timeline.
    Publishing (with its confirmation) and deleting are in challenges/admin_publishing.py."""

    form = ChallengeForm
    change_form_template = "admin/challenges/challenge/change_form.html"
    list_display: tuple[str, ...] = (
        "name",
        "owner",
        "metric",
        "status_badge",
        "opens_at",
        "closes_at",
    )
    list_filter = ("task_type", PublishedFilter)
    search_fields = ("name", "slug", "description")
    prepopulated_fields = {"slug": ("name",)}
    actions: list[Any] = ["delete_selected", "publish_selected"]
    fieldsets = (
        (
            None,
            {"fields": ("name", "slug", "description", "opens_at", "closes_at")},
        ),
        (
            "Students",
            {"fields": ("join_code", "team_size")},
        ),
        (
            "Data",
            {
                "fields": (
                    "dataset",
                    "target_column",
                    "id_column",
                    "task_type",
                    "metric",
                    "dataset_summary",
                )
            },
        ),
        (
            "Hidden test split",
            {"fields": ("test_fraction", "private_fraction", "split_seed", "split_summary")},
        ),
        (
            "Release order",
            {
                "description": "What each release holds: see the preview under Releases. "
                "Fixed when the challenge is published.",
                "fields": ("release_order",),
            },
        ),
        (
            "Drift",
            {
                "description": "Later releases, and the probes sent while they are the newest, "
                "come from a shifted distribution: endpoints that retrain on new data score "
                "better. Fixed when the challenge is published.",
                "fields": ("drift", "drift_column", "drift_strength"),
            },
        ),
    )

    def get_form(
        self,
        request: HttpRequest,
        obj: Challenge | None = None,
        change: bool = False,
        **kwargs: Any,
    ) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        # The admin instantiates the class itself: the uploader rides on a subclass.
        return type(form.__name__, (form,), {"uploader_id": request.user.pk})

    def get_inlines(self, request: HttpRequest, obj: Challenge | None) -> list[Any]:
        return [section.inline for section in challenge_sections()]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Challenge]:
        return challenges_owned_by(request.user)

    def get_fieldsets(self, request: HttpRequest, obj: Challenge | None = None) -> Any:
        if obj is None or not obj.is_published:
            return self.fieldsets
        # Once published the file cannot change; its summary row says what it is.
        return [
            (title, {**options, "fields": tuple(f for f in options["fields"] if f != "dataset")})
            for title, options in self.fieldsets
        ]

    def get_readonly_fields(self, request: HttpRequest, obj: Challenge | None = None) -> list[str]:
        readonly = ["dataset_summary", "split_summary"]
        if obj is not None and obj.is_published:
            readonly.extend(field for field in Challenge.FROZEN_ON_PUBLISH if field != "dataset")
        return readonly

    def get_prepopulated_fields(
        self, request: HttpRequest, obj: Challenge | None = None
    ) -> dict[str, Any]:
        return {} if obj is not None and obj.is_published else dict(self.prepopulated_fields)

    def has_delete_permission(self, request: HttpRequest, obj: Challenge | None = None) -> bool:
        # A published challenge has students' work attached: it is closed, not deleted.
        if obj is not None and obj.is_published:
            return False
        return super().has_delete_permission(request, obj)

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        # Django's view validates and saves in one transaction: run again, it says
        # which unique value another teacher took meanwhile (foundation/unique_races.py).
        return validated_again_after_a_unique_race(
            request.FILES,
            lambda: super(ChallengeAdmin, self).changeform_view(
                request, object_id, form_url, extra_context
            ),
        )

    def save_model(self, request: HttpRequest, obj: Challenge, form: Any, change: bool) -> None:
        if not change:
            obj.owner = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)

    @admin.display(description="status", ordering="published_at")
    def status_badge(self, obj: Challenge) -> str:
        return obj.status

    @admin.display(description="stored dataset")
    def dataset_summary(self, obj: Challenge) -> str:
        if not obj.pk:
            return "-"
        name = obj.dataset.name.rsplit("/", 1)[-1]
        return f"{name}: {obj.dataset_rows} rows, {obj.dataset_format}, sha256 {obj.dataset_sha256}"

    @admin.display(description="split")
    def split_summary(self, obj: Challenge) -> str:
        if not obj.is_published:
            return "Made when the challenge is published."
        split = obj.split
        return (
            f"{split} (train sha256 {split.train_sha256[:12]}…, "
            f"test features sha256 {split.test_features_sha256[:12]}…)"
        )

    def get_urls(self) -> list[URLPattern]:
        own = [
            path(
                "<int:object_id>/roster/",
                self.admin_site.admin_view(self.roster_view),
                name="challenges_challenge_roster",
            ),
            path(
                "<int:object_id>/publish/",
                self.admin_site.admin_view(self.publish_view),
                name="challenges_challenge_publish",
            ),
        ]
        return [*own, *super().get_urls()]

    def roster_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """Import students from `username,email` lines; new passwords are shown once,
        with a CSV of them to download."""
        challenge = get_object_or_404(self.get_queryset(request), pk=object_id)
        roster_text, problems, accounts = "", [], None
        if request.method == "POST" and self.has_change_permission(request, challenge):
            upload = request.FILES.get("roster_file")
            roster_text = (
                upload.read().decode("utf-8", "replace")
                if upload
                else request.POST.get("roster", "")
            )
            try:
                accounts = roster_import(challenge=challenge, entries=roster_parse(roster_text))
            except RosterError as error:
                problems = error.problems
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": challenge,
            "title": f"Students of {challenge.name}",
            "roster_text": roster_text,
            "problems": problems,
            "accounts": accounts,
            # admin_view marks the page never-cache: the passwords stay in this response.
            "accounts_download": roster_accounts_download(accounts or []),
            "participants": challenge.participants.select_related("user").order_by(
                "user__username"
            ),
        }
        return TemplateResponse(request, "admin/challenges/challenge/roster.html", context)

    def render_change_form(
        self, request: HttpRequest, context: dict[str, Any], *args: Any, **kwargs: Any
    ) -> Any:
        obj = context.get("original")
        context["publish_url"] = (
            reverse("admin:challenges_challenge_publish", args=[obj.pk])
            if obj is not None and not obj.is_published
            else None
        )
        context["status_html"] = format_html("<strong>{}</strong>", obj.status) if obj else ""
        context["roster_url"] = (
            reverse("admin:challenges_challenge_roster", args=[obj.pk]) if obj is not None else None
        )
        return super().render_change_form(request, context, *args, **kwargs)


@admin.register(Participant)
class ParticipantAdmin(admin.ModelAdmin):
    list_display = ("user", "challenge", "team", "joined_at")
    # Related-only: the filter offers the challenges of the rows get_queryset lets
    # this teacher see, never another teacher's challenge names.
    list_filter = (("challenge", admin.RelatedOnlyFieldListFilter),)
    search_fields = ("user__username", "user__email", "team__name")
    # Its team action comes from teams/admin.py.

    def get_queryset(self, request: HttpRequest) -> QuerySet[Participant]:
        return Participant.objects.filter(
            challenge__in=challenges_owned_by(request.user)
        ).select_related("user", "challenge", "team")

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "challenge":
            kwargs["queryset"] = challenges_owned_by(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_change_permission(self, request: HttpRequest, obj: Participant | None = None) -> bool:
        return False  # enrolment is added or removed, never edited

    def get_fields(self, request: HttpRequest, obj: Participant | None = None) -> tuple[str, ...]:
        # A student joins a team through the team's code or the teams action, which
        # check the challenge and the team size; a team menu here would be ignored,
        # and would list every teacher's team names.
        return ("challenge", "user") if obj is None else ("challenge", "user", "team", "joined_at")

    def save_model(self, request: HttpRequest, obj: Participant, form: Any, change: bool) -> None:
        # Through the service: a student joining a per-student challenge late
        # receives every release already made.
        participant, _ = participant_enroll(challenge=obj.challenge, user=obj.user)
        obj.pk = participant.pk
