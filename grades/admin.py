"""Grades in the admin: under Grades, each of a teacher's challenges has a page
with the weights form, the marks they give, and downloads (CSV, JSON).

Who may see grades follows the challenges: viewing a challenge lets a teacher
preview and download its grades, changing it lets them save the weights (the
queryset keeps each teacher to their own challenges).
"""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin, messages
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import QuerySet
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseRedirect,
)
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.http import urlencode

from challenges.selectors import owned_by
from grades.export import grades_csv, grades_filename, grades_json
from grades.forms import WEIGHTS_HELP, GradeWeightsForm
from grades.models import COMPONENTS, ChallengeGrades, GradeWeights
from grades.selectors import challenge_grades, grade_weights_of
from grades.services import grade_weights_save

DOWNLOADS = {"csv": "text/csv; charset=utf-8", "json": "application/json"}


def _settings_query(weights: GradeWeights) -> dict[str, str]:
    """Every field of the form with the weights' value, as a query string takes it."""
    return {
        name: "" if getattr(weights, name) is None else str(getattr(weights, name))
        for name in GradeWeightsForm.Meta.fields
    }


def _errors_text(form: GradeWeightsForm) -> str:
    """The form's errors on one line, each after its field's name."""
    parts = []
    for name, problems in form.errors.items():
        text = " ".join(str(problem) for problem in problems)
        parts.append(text if name == "__all__" else f"{name}: {text}")
    return " ".join(parts)


@admin.register(ChallengeGrades)
class ChallengeGradesAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "status_badge", "closes_at", "weights_summary")
    search_fields = ("name", "slug")

    def get_queryset(self, request: HttpRequest) -> QuerySet[ChallengeGrades]:
        challenges = ChallengeGrades.objects.select_related("owner", "grade_weights")
        return owned_by(challenges, request.user, owner="owner_id")

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("challenges.view_challenge")

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("challenges.view_challenge")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("challenges.change_challenge")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="status")
    def status_badge(self, obj: ChallengeGrades) -> str:
        return obj.status

    @admin.display(description="weights")
    def weights_summary(self, obj: ChallengeGrades) -> str:
        try:
            saved = obj.grade_weights
        except GradeWeights.DoesNotExist:
            saved = GradeWeights()
        weights = saved.as_dict()
        return ", ".join(f"{key} {weight:g}" for key, weight in weights.items() if weight)

    def get_urls(self) -> list[URLPattern]:
        own = [
            path(
                "<int:object_id>/download/<str:file_format>/",
                self.admin_site.admin_view(self.download_view),
                name="grades_challengegrades_download",
            ),
        ]
        return [*own, *super().get_urls()]

    def change_view(
        self,
        request: HttpRequest,
        object_id: str,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        """The grades page: the weights and scaling form, Preview (nothing saved) or
        Save, the table of marks with the formula that made them, and the downloads
        (with the settings of the table shown)."""
        challenge = get_object_or_404(self.get_queryset(request), pk=object_id)
        saved = grade_weights_of(challenge)
        form = GradeWeightsForm(instance=saved)
        weights, previewing = saved, False
        if request.method == "POST":
            form = GradeWeightsForm(request.POST, instance=grade_weights_of(challenge))
            if form.is_valid():
                if "save" in request.POST and self.has_change_permission(request, challenge):
                    grade_weights_save(
                        challenge=challenge,
                        weights={key: form.cleaned_data[key] for key, _ in COMPONENTS},
                        out_of=form.cleaned_data["out_of"],
                        scaling=form.instance.scaling_values(),
                    )
                    self.message_user(request, "Weights saved.", messages.SUCCESS)
                    return HttpResponseRedirect(request.path)
                weights, previewing = form.instance, True
        grades = challenge_grades(challenge, weights=weights)
        # The downloads carry the settings of the table shown: previewed ones in
        # the link's query (checked again by the same form), saved ones without.
        query = f"?{urlencode(_settings_query(weights))}" if previewing else ""
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": challenge,
            "title": f"Grades of {challenge.name}",
            "form": form,
            "grades": grades,
            "previewing": previewing,
            "can_save": self.has_change_permission(request, challenge),
            "formula_lines": grades.formula_lines,
            "weights_help": WEIGHTS_HELP,
            "downloads": {
                file_format: reverse(
                    "admin:grades_challengegrades_download", args=[challenge.pk, file_format]
                )
                + query
                for file_format in DOWNLOADS
            },
        }
        return TemplateResponse(request, "admin/grades/grades.html", context)

    def download_view(self, request: HttpRequest, object_id: int, file_format: str) -> HttpResponse:
        """The grades as a file: with the settings in the query (a preview's link),
        else with the saved ones."""
        challenge = get_object_or_404(self.get_queryset(request), pk=object_id)
        if file_format not in DOWNLOADS:
            raise Http404("Grades download as csv or json.")
        weights = grade_weights_of(challenge)
        if any(name in request.GET for name in GradeWeightsForm.Meta.fields):
            form = GradeWeightsForm(request.GET, instance=weights)
            if not form.is_valid():
                return HttpResponseBadRequest(
                    f"These settings cannot make marks: {_errors_text(form)}",
                    content_type="text/plain; charset=utf-8",
                )
            weights = form.instance
        grades = challenge_grades(challenge, weights=weights)
        body = (
            grades_csv(grades)
            if file_format == "csv"
            else json.dumps(grades_json(grades), indent=2, cls=DjangoJSONEncoder)
        )
        response = HttpResponse(body, content_type=DOWNLOADS[file_format])
        filename = grades_filename(grades, file_format)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
