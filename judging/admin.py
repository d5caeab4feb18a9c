from __future__ import annotations

import json
from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.html import format_html

from challenges.admin_filters import OwnChallengeFilter
from foundation.admin_helpers import ReadOnlyInline, TeacherEditsOnlyAdmin
from judging.models import (
    ConfigurationResult,
    FoldResult,
    Reproduction,
    Submission,
    SubmissionEvent,
)
from judging.picks import submission_promote, submission_withdraw_promotion
from judging.reproduction import ReproductionRefused, reproduction_request, worker_node
from judging.selectors import submission_code, submissions_taught_by
from judging.services import submission_cancel, submission_rejudge
from judging.step_charts import step_charts
from judging.tasks import revoke_judge_task


class FoldResultInline(ReadOnlyInline):
    model = FoldResult
    fields = ("index", "score", "fit_seconds", "predict_seconds", "cpu_seconds", "peak_memory_mb")
    readonly_fields = fields
    verbose_name_plural = "Folds"


class ConfigurationResultInline(ReadOnlyInline):
    model = ConfigurationResult
    fields = (
        "index",
        "label",
        "chosen",
        "cv_mean",
        "cv_std",
        "latency_p50_ms",
        "latency_p95_ms",
        "cpu_seconds",
        "peak_memory_mb",
        "sla_met",
    )
    readonly_fields = fields
    verbose_name_plural = "Configurations (a sweep has several; the best by CV is kept)"


class ReproductionInline(ReadOnlyInline):
    model = Reproduction
    fields = (
        "requested_at",
        "requested_by",
        "state",
        "original_worker",
        "worker",
        "elsewhere",
        "max_difference",
        "tolerance",
        "reason",
        "finished_at",
    )
    readonly_fields = fields
    verbose_name_plural = "Reproductions (the recorded job run again, on another worker)"

    @admin.display(description="on another worker", boolean=True)
    def elsewhere(self, obj: Reproduction) -> bool | None:
        if not obj.worker:
            return None
        return worker_node(obj.worker) != worker_node(obj.original_worker)


class SubmissionEventInline(ReadOnlyInline):
    model = SubmissionEvent
    fields = ("at", "state", "attempt", "message")
    readonly_fields = fields
    verbose_name_plural = "Timeline"


# What a list row never shows: a submission's jobs, logs and records (kilobytes each),
# read only on its own page.
BULKY_FIELDS = (
    "job",
    "pipeline",
    "plans",
    "provenance",
    "artifacts",
    "stdout_tail",
    "stderr_tail",
)


class SubmissionChangeList(ChangeList):
    def get_queryset(self, request: HttpRequest, exclude_parameters: Any = None) -> QuerySet[Any]:
        rows = super().get_queryset(request, exclude_parameters)
        # Each row's checkbox is labelled with str(submission), which names the
        # participant's challenge: without it a query per row, 100 a page (the
        # admin adds list_select_related only to a queryset that has none, and
        # submissions_taught_by has its own).
        return rows.select_related("participant__challenge").defer(*BULKY_FIELDS)


@admin.register(Submission)
class SubmissionAdmin(TeacherEditsOnlyAdmin):
    # Nothing on a submission is the teacher's to type: its page is view-only, and
    # what a teacher may do to one goes through the actions below.
    list_display = (
        "id",
        "challenge_slug",
        "author",
        "state",
        "public_score",
        "cv_mean",
        "cpu_seconds",
        "peak_memory_mb",
        "attempts",
        "selected",
        "promoted",
        "created_at",
        "short_reason",
    )
    list_filter = ("state", "failure_kind", OwnChallengeFilter, "created_at")
    # A filtered page counts only its matches, not the whole table as well.
    show_full_result_count = False
    # Rendering the rows is nearly all of a page's cost (the admin formats each of
    # 14 cells through its template tags: about 0.9 ms a row in a profile at 10,000
    # submissions, against 1 ms for the page's seven queries): 50 rows a page
    # rather than the admin's 100 halves it, and the newest 50 are what a teacher
    # looks at.
    list_per_page = 50
    search_fields = ("participant__user__username", "reason", "code_sha256")
    list_select_related = ("challenge", "participant__user")
    actions = [
        "rejudge_selected",
        "cancel_selected",
        "promote",
        "withdraw_promotion",
        "reproduce",
    ]
    inlines = [
        ConfigurationResultInline,
        FoldResultInline,
        SubmissionEventInline,
        ReproductionInline,
    ]
    readonly_fields = (
        "challenge",
        "participant",
        "state",
        "reason",
        "failure_kind",
        "public_score",
        "private_score",
        "cv_mean",
        "cv_std",
        "cpu_seconds",
        "peak_memory_mb",
        "fit_seconds",
        "wall_seconds",
        "attempts",
        "max_attempts",
        "worker",
        "task_id",
        "created_at",
        "queued_at",
        "started_at",
        "finished_at",
        "lease_expires_at",
        "selected",
        "promoted",
        "filename",
        "code_bytes",
        "code_sha256",
        "code",
        "stdout",
        "stderr",
        "kind",
        "sweep",
        "where_the_time_goes",
        "job_json",
        "provenance_json",
        "artifacts_json",
    )
    exclude = (
        "job",
        "provenance",
        "stdout_tail",
        "stderr_tail",
        "pipeline",
        "plans",
        "artifacts",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Submission]:
        return submissions_taught_by(request.user)

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[ChangeList]:
        return SubmissionChangeList

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description="challenge", ordering="challenge__slug")
    def challenge_slug(self, obj: Submission) -> str:
        return obj.challenge.slug

    @admin.display(description="student", ordering="participant__user__username")
    def author(self, obj: Submission) -> str:
        return obj.participant.user.get_username()

    @admin.display(description="reason")
    def short_reason(self, obj: Submission) -> str:
        return (obj.reason[:80] + "…") if len(obj.reason) > 80 else obj.reason

    @admin.display(description="code")
    def code(self, obj: Submission) -> str:
        return format_html("<pre id='submission-code'>{}</pre>", submission_code(obj))

    @admin.display(description="stdout (tail)")
    def stdout(self, obj: Submission) -> str:
        return format_html("<pre>{}</pre>", obj.stdout_tail or "(nothing)")

    @admin.display(description="stderr (tail)")
    def stderr(self, obj: Submission) -> str:
        return format_html("<pre id='submission-stderr'>{}</pre>", obj.stderr_tail or "(nothing)")

    @admin.display(description="judge job")
    def job_json(self, obj: Submission) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.job, indent=2, sort_keys=True))

    @admin.display(description="where the time goes (kept configuration)")
    def where_the_time_goes(self, obj: Submission) -> str:
        chosen = obj.configurations.filter(chosen=True).first()
        if chosen is None:
            return "-"
        charts = step_charts(
            list(chosen.steps.all()), obj.challenge.judging_rules.step_latency_sla_ms
        )
        return render_to_string(
            "judging/step_charts.html", {"step_charts": charts, "with_scripts": True}
        )

    @admin.display(description="artifacts (sha256 in the artifact store)")
    def artifacts_json(self, obj: Submission) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.artifacts, indent=2, sort_keys=True))

    @admin.display(description="provenance")
    def provenance_json(self, obj: Submission) -> str:
        return format_html("<pre>{}</pre>", json.dumps(obj.provenance, indent=2, sort_keys=True))

    @admin.action(description="Judge selected submissions again", permissions=["act"])
    def rejudge_selected(self, request: HttpRequest, queryset: QuerySet[Submission]) -> None:
        count = sum(submission_rejudge(submission=row) for row in queryset)
        self.message_user(request, f"{count} submission(s) will be judged again.", messages.SUCCESS)

    @admin.action(
        description="Cancel selected submissions (stops a running job)", permissions=["act"]
    )
    def cancel_selected(self, request: HttpRequest, queryset: QuerySet[Submission]) -> None:
        count = sum(
            submission_cancel(submission=row, revoke=revoke_judge_task, by="the teacher")
            for row in queryset
        )
        self.message_user(request, f"{count} submission(s) cancelled.", messages.SUCCESS)

    @admin.action(description="Promote to the final ranking", permissions=["act"])
    def promote(self, request: HttpRequest, queryset: QuerySet[Submission]) -> None:
        by = f"the teacher ({request.user.get_username()})"
        count = sum(submission_promote(submission=row, by=by) for row in queryset)
        skipped = len(queryset) - count
        note = f"; {skipped} not scored or promoted already" if skipped else ""
        self.message_user(
            request,
            f"{count} submission(s) promoted: each counts in its author's final ranking "
            f"beyond their own picks{note}.",
            messages.SUCCESS,
        )

    @admin.action(description="Reproduce on another worker", permissions=["act"])
    def reproduce(self, request: HttpRequest, queryset: QuerySet[Submission]) -> None:
        by = f"the teacher ({request.user.get_username()})"
        requested, refused = 0, []
        for row in queryset:
            try:
                reproduction_request(submission=row, requested_by=by)
            except ReproductionRefused as error:
                refused.append(str(error))
            else:
                requested += 1
        if requested:
            self.message_user(
                request,
                f"{requested} reproduction(s) requested: each submission's page lists its "
                "reproductions, with whether the scores matched.",
                messages.SUCCESS,
            )
        for message in refused:
            self.message_user(request, message, messages.WARNING)

    @admin.action(description="Withdraw promotion", permissions=["act"])
    def withdraw_promotion(self, request: HttpRequest, queryset: QuerySet[Submission]) -> None:
        by = f"the teacher ({request.user.get_username()})"
        count = sum(submission_withdraw_promotion(submission=row, by=by) for row in queryset)
        self.message_user(request, f"{count} promotion(s) withdrawn.", messages.SUCCESS)
