"""The site's admin: the challenge's page as the site composes it. The core with every
app's section is challenges/admin.py; added here is what spans the apps: each
challenge's release counts, re-planning its releases, judging its submissions again,
its release timeline, the releases its publish confirmation announces, and the
dry-run report of its retention policy."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse

from challenges.admin import ChallengeAdmin
from challenges.models import Challenge
from challenges.publish_preview import PublishPreview, train_rows_after_split
from dispatch.models import TransactionState
from dispatch.planning import PlanError
from dispatch.publish_summary import publish_summary_lines
from dispatch.release_chart import timeline_chart
from dispatch.selectors import release_timeline, transaction_counts
from dispatch.services import releases_replan
from judging.services import challenge_rejudge
from retention.services import artifacts_collect


@admin.register(Challenge)
class SiteChallengeAdmin(ChallengeAdmin):
    list_display = (*ChallengeAdmin.list_display, "release_counts")
    actions = [*ChallengeAdmin.actions, "replan_selected", "rejudge_selected"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Challenge]:
        return transaction_counts(super().get_queryset(request))

    def publish_preview(self, request: HttpRequest, challenge: Challenge) -> PublishPreview:
        preview = super().publish_preview(request, challenge)
        releases = publish_summary_lines(challenge, train_rows=train_rows_after_split(challenge))
        preview.consequences[1:1] = releases  # after the split, before "cannot be undone"
        return preview

    @admin.display(description="releases")
    def release_counts(self, obj: Challenge) -> str:
        parts = [
            f"{getattr(obj, f'tx_{state}', 0)} {state}"
            for state in TransactionState.values
            if getattr(obj, f"tx_{state}", 0)
        ]
        return " · ".join(parts) or "-"

    @admin.action(description="Re-plan releases (rebuild those not yet sent)")
    def replan_selected(self, request: HttpRequest, queryset: QuerySet[Challenge]) -> None:
        for challenge in queryset:
            if not challenge.is_published:
                self.message_user(
                    request, f"Challenge '{challenge.slug}' is not published yet.", messages.WARNING
                )
                continue
            try:
                rebuilt, kept = releases_replan(challenge=challenge)
            except PlanError as error:
                self.message_user(
                    request, f"Challenge '{challenge.slug}' not re-planned: {error}", messages.ERROR
                )
                continue
            self.message_user(
                request,
                f"Challenge '{challenge.slug}': {rebuilt} release(s) planned again, "
                f"{kept} already under way kept.",
                messages.SUCCESS,
            )

    @admin.action(description="Judge again every scored or failed submission")
    def rejudge_selected(self, request: HttpRequest, queryset: QuerySet[Challenge]) -> None:
        for challenge in queryset:
            count = challenge_rejudge(challenge=challenge)
            self.message_user(
                request,
                f"Challenge '{challenge.slug}': {count} submission(s) will be judged again.",
                messages.SUCCESS,
            )

    def get_urls(self) -> list[URLPattern]:
        releases = path(
            "<int:object_id>/releases/",
            self.admin_site.admin_view(self.releases_view),
            name="challenges_challenge_releases",
        )
        retention = path(
            "<int:object_id>/retention/",
            self.admin_site.admin_view(self.retention_view),
            name="challenges_challenge_retention",
        )
        return [releases, retention, *super().get_urls()]

    def retention_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        """What the challenge's retention policy would remove now: a dry run, which
        changes nothing (only the challenge's own runs; a file another challenge's
        row refers to is not counted as freed)."""
        challenge = get_object_or_404(self.get_queryset(request), pk=object_id)
        report = artifacts_collect(dry_run=True, challenge_ids=[challenge.pk])
        entry = report.challenges[0] if report.challenges else None
        students = dict(challenge.participants.values_list("id", "user__username"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": challenge,
            "title": f"Retention of {challenge.name}: dry run",
            "entry": entry,
            "runs": [
                (run, students.get(run.participant_id, "")) for run in (entry.runs if entry else [])
            ][:500],
        }
        return TemplateResponse(request, "admin/challenges/challenge/retention.html", context)

    def releases_view(self, request: HttpRequest, object_id: int) -> HttpResponse:
        challenge = get_object_or_404(self.get_queryset(request), pk=object_id)
        releases = release_timeline(challenge)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": challenge,
            "title": f"Releases of {challenge.name}",
            "releases": releases,
            "chart": timeline_chart(releases),
        }
        return TemplateResponse(request, "admin/challenges/challenge/releases.html", context)

    def render_change_form(
        self, request: HttpRequest, context: dict[str, Any], *args: Any, **kwargs: Any
    ) -> Any:
        obj = context.get("original")
        context["releases_url"] = (
            reverse("admin:challenges_challenge_releases", args=[obj.pk])
            if obj is not None
            else None
        )
        return super().render_change_form(request, context, *args, **kwargs)
