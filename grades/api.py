"""Grades over the API, for teachers' scripts: the export the admin downloads,
with the challenge's saved weights, as JSON or CSV (`?format=`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import exceptions, serializers
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from foundation.api import IsTeacher
from grades.export import COLUMNS, grades_csv, grades_filename, grades_json
from grades.marks import FORMULA
from grades.selectors import challenge_grades, grades_challenge_for


class CSVRenderer(BaseRenderer):
    """The CSV the view made already (grades.export.grades_csv)."""

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        return str(data).encode(self.charset)


class FormatParameterNegotiation(DefaultContentNegotiation):
    """`?format=csv|json` decides (json when absent); another format is a 400 that
    says which ones exist, not DRF's bare 404."""

    def select_renderer(
        self, request: Request, renderers: Iterable[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        wanted = request.query_params.get("format") or "json"
        for renderer in renderers:
            if renderer.format == wanted:
                return renderer, renderer.media_type
        raise exceptions.ValidationError({"format": [f"Use csv or json, not {wanted!r}."]})


_SCALED = "The component in 0..1 as the mark uses it (null: no value, counts 0)."


class GradeRowSerializer(serializers.Serializer[Any]):
    """Documents a row of the JSON (and the CSV's columns, in this order)."""

    rank = serializers.IntegerField(allow_null=True, help_text="The leaderboard's rank.")
    participant = serializers.CharField()
    team = serializers.CharField(
        help_text="The student's team (empty: alone); its members share its results, "
        "their questions and receipt score are their own."
    )
    mark = serializers.FloatField(help_text=FORMULA)
    final = serializers.BooleanField(help_text="false: provisional (public scores).")
    submission_id = serializers.IntegerField(
        allow_null=True, help_text="The submission the leaderboard represents the student by."
    )
    represented_by = serializers.CharField(
        help_text="selected, promoted, best (no pick: the best public score), or empty."
    )
    public_score = serializers.FloatField(allow_null=True)
    private_score = serializers.FloatField(allow_null=True, help_text="After the close only.")
    cpu_seconds = serializers.FloatField(allow_null=True)
    peak_memory_mb = serializers.FloatField(allow_null=True)
    submissions = serializers.IntegerField(help_text="Submissions made, not counting cancelled.")
    endpoint_registered = serializers.BooleanField()
    endpoint_uptime = serializers.FloatField(allow_null=True)
    endpoint_sla = serializers.FloatField(allow_null=True)
    endpoint_releases_behind = serializers.IntegerField(allow_null=True)
    questions_posed = serializers.IntegerField()
    questions_answered = serializers.IntegerField()
    questions_correct = serializers.IntegerField()
    questions_partial = serializers.IntegerField()
    questions_missed = serializers.IntegerField(help_text="Unanswered by their deadline.")
    questions_open = serializers.IntegerField(help_text="Still open, deadline not passed.")
    receipt_score = serializers.FloatField(allow_null=True)
    missing = serializers.ListField(
        child=serializers.CharField(),
        help_text="no_scored_submission, no_endpoint, questions_missed (CSV: joined by ';').",
    )
    component_score = serializers.FloatField(allow_null=True, help_text=_SCALED)
    component_cpu_seconds = serializers.FloatField(allow_null=True, help_text=_SCALED)
    component_peak_memory_mb = serializers.FloatField(allow_null=True, help_text=_SCALED)
    component_endpoint_uptime = serializers.FloatField(allow_null=True, help_text=_SCALED)
    component_endpoint_sla = serializers.FloatField(allow_null=True, help_text=_SCALED)
    component_endpoint_freshness = serializers.FloatField(allow_null=True, help_text=_SCALED)
    component_receipts = serializers.FloatField(allow_null=True, help_text=_SCALED)


assert tuple(GradeRowSerializer().fields) == COLUMNS


class GradesSerializer(serializers.Serializer[Any]):
    challenge = serializers.SlugField()
    final = serializers.BooleanField(
        help_text="false before the close: provisional marks from public scores."
    )
    note = serializers.CharField()
    score_used = serializers.CharField(help_text="private_score or public_score.")
    weights = serializers.DictField(child=serializers.FloatField())
    out_of = serializers.FloatField()
    scaling = serializers.DictField(
        child=serializers.DictField(),
        help_text="Per scaled component (score, cpu_seconds, peak_memory_mb, "
        "endpoint_freshness): `scaling` relative (min-max in the class) or absolute, "
        "`worth_0` and `worth_1` (absolute: the values worth 0 and 1), and for the costs "
        "`tolerance_percent` (values that close to the lowest of their group count as it).",
    )
    formula = serializers.CharField(
        help_text="The formula these marks were computed with, in the saved settings' "
        "numbers, one line for the sum and one per weighted component."
    )
    rows = GradeRowSerializer(many=True)


# The house's error shape (foundation.api); a field named `errors` cannot be a
# Serializer class attribute (it is the serializer's own `errors`).
ERROR_SHAPE = inline_serializer(
    "GradesError",
    {
        "detail": serializers.CharField(),
        "errors": serializers.DictField(child=serializers.ListField(child=serializers.CharField())),
    },
)


class GradesView(APIView):
    permission_classes = [IsTeacher]
    renderer_classes = [JSONRenderer, CSVRenderer]
    content_negotiation_class = FormatParameterNegotiation

    @extend_schema(
        summary="Grades: each student's final results and mark (the challenge's teacher)",
        description="One row per enrolled student: the leaderboard's rows in its order, "
        "then students with no leaderboard row. Marks use the weights saved in the admin "
        "(Grades). Before the close `final` is false and scores are public ones. " + FORMULA,
        parameters=[OpenApiParameter("format", str, enum=["json", "csv"], default="json")],
        responses={
            (200, "application/json"): GradesSerializer,
            (200, "text/csv"): OpenApiTypes.STR,
            (400, "application/json"): OpenApiResponse(
                ERROR_SHAPE, description="An unknown format."
            ),
            (403, "application/json"): OpenApiResponse(ERROR_SHAPE, description="Not a teacher."),
            (404, "application/json"): OpenApiResponse(
                ERROR_SHAPE, description="Not a challenge of yours."
            ),
        },
    )
    def get(self, request: Request, slug: str) -> Response:
        challenge = grades_challenge_for(request.user, slug)
        if challenge is None:
            raise exceptions.NotFound(f"No challenge '{slug}' of yours.")
        grades = challenge_grades(challenge)
        if request.accepted_renderer.format == "csv":
            filename = grades_filename(grades, "csv")
            return Response(
                grades_csv(grades),
                headers={"Content-Disposition": f'attachment; filename="{filename}"'},
            )
        return Response(grades_json(grades))

    def finalize_response(self, request: Request, response: Any, *args: Any, **kwargs: Any) -> Any:
        # Errors keep the house's JSON shape whatever format was asked for.
        if response.status_code >= 400:
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)
