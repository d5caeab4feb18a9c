"""The starting kit, over the API and from the challenge's page: the same zip
(judging/starting_kit.py), for the challenge's members only."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.views import APIView

from challenges.models import Participant
from foundation.throttles import DOWNLOADS, page_throttle
from judging.starting_kit import kit_filename, kit_participant, starting_kit


def _zip_response(participant: Participant) -> HttpResponse:
    response = HttpResponse(starting_kit(participant), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{kit_filename(participant)}"'
    return response


class ZipRenderer(BaseRenderer):
    """Lets a client that asks for `Accept: application/zip` in; the zip itself is an
    HttpResponse of the view's, so only an error's JSON is ever rendered here."""

    media_type = "application/zip"
    format = "zip"

    def render(
        self,
        data: Any,
        accepted_media_type: str | None = None,
        renderer_context: Mapping[str, Any] | None = None,
    ) -> bytes:
        return json.dumps(data).encode()


class StartingKitView(APIView):
    renderer_classes = [JSONRenderer, ZipRenderer]
    throttle_scope = DOWNLOADS

    @extend_schema(
        summary="Your starting kit for a challenge (zip)",
        description=(
            "README.md (task, metric, limits, how to submit), an example estimator.py, "
            "ppipe_test.py (`python ppipe_test.py estimator.py`: the judge's folds, contract and "
            "metric, last line JSON {cv_mean, cv_std, folds}), data/folds.csv (the judge's fold "
            "of each training row delivered to you) and, when the challenge allows downloads, "
            "data/train.parquet (those rows). Members only: 404 otherwise."
        ),
        responses={
            (200, "application/zip"): OpenApiTypes.BINARY,
            404: OpenApiResponse(description="Not a member of this published challenge."),
        },
    )
    def get(self, request: Request, slug: str) -> HttpResponse:
        participant = kit_participant(request.user, slug)
        if participant is None:
            raise exceptions.NotFound(f"No challenge '{slug}' of yours: join it first.")
        return _zip_response(participant)


@login_required
@page_throttle(DOWNLOADS)
def starting_kit_download(request: HttpRequest, slug: str) -> HttpResponse:
    participant = kit_participant(request.user, slug)
    if participant is None:
        raise Http404(f"No challenge '{slug}' of yours: join it first.")
    return _zip_response(participant)
