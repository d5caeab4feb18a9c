from __future__ import annotations

import json

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import F, QuerySet
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext

from challenges.admin_filters import OwnChallengeFilter
from foundation.admin_helpers import ReadOnlyInline, TeacherEditsOnlyAdmin
from foundation.admin_lists import CountedAheadPaginator, requested_page
from judging.models import (
    ConfigurationResult,
    FoldResult,
    Reproduction,
    Submission,
    SubmissionEvent,
    SubmissionState,
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
        "cores",
        "batch_size",
        "chosen",
        "cv_mean",
        "cv_std",
        "latency_p50_ms",
        "latency_p95_ms",
        "throughput_rows_per_second",
        "cpu_seconds",
        "wall_seconds",
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


# What a page of the list reads: the columns it shows, and nothing of a
# submission's jobs, logs and records (kilobytes each), read only on its own page.
LIST_FIELDS = (
    "id",
    "filename",
    "state",
    "reason",
    "attempts",
    "public_score",
    "cv_mean",
    "cpu_seconds",
    "peak_memory_mb",
    "selected",
    "promoted",
    "created_at",
)
# The challenge's slug and the author's name come with a page's rows as two
# columns of the same query, not as a challenge, a participant and a user built
# for each row: one model instance a row instead of four.
LISTED_CHALLENGE, LISTED_AUTHOR = "listed_challenge", "listed_author"
LIST_NAMES = {
    LISTED_CHALLENGE: F("challenge__slug"),
    LISTED_AUTHOR: F("participant__user__username"),
}


def _figure(value: float | None, template: str) -> str:
    return "-" if value is None else template.format(value)


@admin.register(Submission)
class SubmissionAdmin(TeacherEditsOnlyAdmin):
    # Nothing on a submission is the teacher's to type: its page is view-only, and
    # what a teacher may do to one goes through the actions below.
    #
    # Rendering the rows was nearly all of a page's cost at 10,000 submissions (the
    # admin formats each cell through display_for_field, localised number and date
    # formats and a widget template for each checkbox: about 0.9 ms a row): each
    # column here is a method that formats its figure itself, and fewer of them:
    # the state carries its reason (and the run, past the first), the picks and
    # promotions share a column, and the rest is on the submission's page.
    list_display = (
        "number",
        "challenge_slug",
        "author",
        "state_and_reason",
        "public_score_shown",
        "cv_mean_shown",
        "cpu_shown",
        "memory_shown",
        "final_ranking",
        "created",
    )
    list_display_links = ("number",)
    list_filter = ("state", "failure_kind", OwnChallengeFilter, "created_at")
    # A filtered page counts only its matches, not the whole table as well; and
    # only as far as ten pages ahead (get_paginator).
    show_full_result_count = False
    # 50 rows a page rather than the admin's 100: the newest 50 are what a teacher
    # looks at, and the rows are most of a page's cost.
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
        # The names on every path: a list that fits one page takes its rows from
        # here (the admin's ChangeList), a longer one from get_paginator.
        return submissions_taught_by(request.user).annotate(**LIST_NAMES)

    def get_paginator(
        self,
        request: HttpRequest,
        queryset: QuerySet[Submission],
        per_page: int,
        orphans: int = 0,
        allow_empty_first_page: bool = True,
    ) -> CountedAheadPaginator:
        # The page's rows, not the actions' (which get the change list's queryset,
        # whole rows): only the columns shown.
        rows = queryset.select_related(None).only(*LIST_FIELDS).annotate(**LIST_NAMES)
        return CountedAheadPaginator(rows, per_page, page_number=requested_page(request))

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.display(description=mark_safe('<input type="checkbox" id="action-toggle">'))
    def action_checkbox(self, obj: Submission) -> SafeString:
        # The admin's own renders a CheckboxInput through the form template engine for
        # each row, and labels it with str(obj), which reads the participant's
        # challenge: the same markup and label, formatted directly.
        author, challenge = getattr(obj, LISTED_AUTHOR), getattr(obj, LISTED_CHALLENGE)
        label = f"#{obj.pk} {obj.filename} by {author} in {challenge}"
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            ACTION_CHECKBOX_NAME,
            obj.pk,
            format_html(gettext("Select this object for an action - {}"), label),
        )

    @admin.display(description="id", ordering="id")
    def number(self, obj: Submission) -> str:
        return str(obj.pk)

    @admin.display(description="challenge", ordering="challenge__slug")
    def challenge_slug(self, obj: Submission) -> str:
        return str(getattr(obj, LISTED_CHALLENGE))

    @admin.display(description="student", ordering="participant__user__username")
    def author(self, obj: Submission) -> str:
        return str(getattr(obj, LISTED_AUTHOR))

    @admin.display(description="state", ordering="state")
    def state_and_reason(self, obj: Submission) -> str:
        state = SubmissionState(obj.state).label
        if obj.attempts > 1:
            state = f"{state} (run {obj.attempts})"
        if not obj.reason:
            return state
        reason = (obj.reason[:80] + "…") if len(obj.reason) > 80 else obj.reason
        return format_html('{}: <span title="{}">{}</span>', state, obj.reason, reason)

    @admin.display(description="public score", ordering="public_score")
    def public_score_shown(self, obj: Submission) -> str:
        return _figure(obj.public_score, "{:.4f}")

    @admin.display(description="CV mean", ordering="cv_mean")
    def cv_mean_shown(self, obj: Submission) -> str:
        return _figure(obj.cv_mean, "{:.4f}")

    @admin.display(description="CPU", ordering="cpu_seconds")
    def cpu_shown(self, obj: Submission) -> str:
        return _figure(obj.cpu_seconds, "{:.1f} s")

    @admin.display(description="peak memory", ordering="peak_memory_mb")
    def memory_shown(self, obj: Submission) -> str:
        return _figure(obj.peak_memory_mb, "{:.0f} MB")

    @admin.display(description="final ranking")
    def final_ranking(self, obj: Submission) -> str:
        marks = [word for word, on in (("picked", obj.selected), ("promoted", obj.promoted)) if on]
        return ", ".join(marks) or "-"

    @admin.display(description="created", ordering="created_at")
    def created(self, obj: Submission) -> str:
        # A fixed format rather than the admin's localised date format, which parses
        # its format string for every cell.
        return timezone.localtime(obj.created_at).strftime("%Y-%m-%d %H:%M")

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
