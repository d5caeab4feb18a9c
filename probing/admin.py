"""Endpoints and probes in the admin, for the teacher of the challenge.

The auth header is never shown, only whether one is set. The teacher sees the
exact live score and each probe's score besides the published one; students
never do. A teacher may pause
or resume an endpoint's probing; probes are read-only history, filtered by
challenge, outcome and kind, with the raw exchange of a check."""

from __future__ import annotations

import json

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from challenges.admin_filters import OwnChallengeFilter
from challenges.selectors import owned_by
from foundation.admin_helpers import ReadOnlyAdmin, TeacherEditsOnlyAdmin
from probing.endpoint_charts import latency_chart, uptime_chart
from probing.metrics_table import metrics_rows
from probing.models import Endpoint, Probe
from probing.selectors import (
    endpoint_history,
    endpoint_measured_score,
    endpoint_metrics,
    window_start,
)


class ProbeChallengeFilter(OwnChallengeFilter):
    challenge_lookup = "endpoint__challenge_id"


@admin.register(Endpoint)
class EndpointAdmin(TeacherEditsOnlyAdmin):
    list_display = ("id", "challenge", "student", "url", "protocol", "auth", "active")
    list_filter = ("active", "protocol", OwnChallengeFilter)
    search_fields = ("participant__user__username", "url")
    list_select_related = ("challenge", "participant__user")
    fields = (
        "challenge",
        "participant",
        "url",
        "protocol",
        "model_name",
        "auth",
        "active",
        "next_probe_at",
        "created_at",
        "updated_at",
        "metrics",
        "charts",
        "probes_link",
    )
    readonly_fields = tuple(field for field in fields if field != "active")
    # Its URL, protocol and header are the student's; its schedule and figures the
    # platform's. The teacher pauses or resumes it.
    teacher_editable = ("active",)
    actions = ["pause_selected", "resume_selected"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Endpoint]:
        endpoints = Endpoint.objects.select_related("challenge__split", "participant__user")
        return owned_by(endpoints, request.user, owner="challenge__owner_id")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # a student registers their own endpoint

    @admin.display(description="student", ordering="participant__user__username")
    def student(self, obj: Endpoint) -> str:
        return obj.participant.user.get_username()

    @admin.display(description="auth header")
    def auth(self, obj: Endpoint) -> str:
        return "set (hidden)" if obj.auth_header else "none"

    @admin.display(description="metrics over the window")
    def metrics(self, obj: Endpoint) -> SafeString:
        rows = metrics_rows(endpoint_metrics(obj), obj.challenge.probe_rules.latency_sla_ms)
        # The exact figure, for the teacher only: a student differencing it around
        # one probe would read that probe's score (probing/publication.py).
        measured = endpoint_measured_score(obj)
        exact = "n/a" if measured.score is None else f"{measured.score:.4f}"
        rows.append(("Score measured now (teachers only)", f"{exact} over {measured.rows} rows"))
        return format_html(
            "<table>{}</table>",
            format_html_join("", "<tr><th>{}</th><td>{}</td></tr>", rows),
        )

    @admin.display(description="latency and uptime")
    def charts(self, obj: Endpoint) -> SafeString:
        now = timezone.now()
        history = endpoint_history(obj, now)
        sla_ms = obj.challenge.probe_rules.latency_sla_ms
        return render_to_string(
            "probing/endpoint_charts.html",
            {
                "latency_chart": latency_chart(history, sla_ms, window_start(now), now),
                "uptime_chart": uptime_chart(history, window_start(now), now),
                "with_scripts": True,
            },
        )

    @admin.display(description="probes")
    def probes_link(self, obj: Endpoint) -> SafeString:
        url = reverse("admin:probing_probe_changelist") + f"?endpoint__id__exact={obj.pk}"
        return format_html('<a href="{}">All probes of this endpoint</a>', url)

    @admin.action(description="Pause probing of the selected endpoints", permissions=["act"])
    def pause_selected(self, request: HttpRequest, queryset: QuerySet[Endpoint]) -> None:
        count = queryset.update(active=False)
        self.message_user(request, f"{count} endpoint(s) paused.", messages.SUCCESS)

    @admin.action(description="Resume probing of the selected endpoints", permissions=["act"])
    def resume_selected(self, request: HttpRequest, queryset: QuerySet[Endpoint]) -> None:
        count = queryset.update(active=True)
        self.message_user(request, f"{count} endpoint(s) resumed.", messages.SUCCESS)


@admin.register(Probe)
class ProbeAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "student",
        "kind",
        "state",
        "outcome",
        "http_status",
        "total_ms",
        "sla_met",
        "score",
        "data_version",
        "scheduled_at",
        "worker",
    )
    list_filter = ("kind", "state", "outcome", "sla_met", ProbeChallengeFilter, "scheduled_at")
    # A filtered page counts only its matches, not the whole table as well.
    show_full_result_count = False
    search_fields = ("endpoint__participant__user__username", "detail")
    list_select_related = ("endpoint__participant__user",)
    exclude = ("exchange", "rows")
    readonly_fields = ("exchange_json",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Probe]:
        return owned_by(Probe.objects.all(), request.user, owner="endpoint__challenge__owner_id")

    def lookup_allowed(self, lookup: str, value: str, request: HttpRequest | None = None) -> bool:
        # The endpoint page links here; the queryset already holds only the teacher's.
        return lookup == "endpoint__id__exact" or super().lookup_allowed(lookup, value, request)

    @admin.display(description="student", ordering="endpoint__participant__user__username")
    def student(self, obj: Probe) -> str:
        return obj.endpoint.participant.user.get_username()

    @admin.display(description="exchange (checks keep it; the auth header is never stored)")
    def exchange_json(self, obj: Probe) -> SafeString:
        return format_html("<pre>{}</pre>", json.dumps(obj.exchange, indent=2) or "{}")
