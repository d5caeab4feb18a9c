"""Endpoints over the API: register, check now, read the metrics.

A student reads only their own endpoint (another's is a 404); a teacher reads
their challenges'. The auth header is write-only: the API says only whether
one is set. Per-probe scores are not shown: the probed rows are hidden test
rows, and a score per handful of rows would leak their labels. For the same
reason `metrics.score` is the published live score (probing/publication.py),
the same for the student and the teacher, and a check says whether its answer
was valid, never whether it was right.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from challenges.api import caller_participant, visible_challenge
from foundation.throttles import POLLS
from probing.models import Endpoint, Probe, Protocol
from probing.selectors import endpoint_history, endpoint_metrics, endpoint_readable_by
from probing.services import CheckRefused, endpoint_check, endpoint_register
from probing.tasks import run_probe_now

RECENT_PROBES = 50


class EndpointRegistrationSerializer(serializers.Serializer[Any]):
    url = serializers.CharField(help_text="The endpoint's base URL (or the full path).")
    protocol = serializers.ChoiceField(choices=Protocol.choices)
    model_name = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="For the v2 protocol."
    )
    auth_header = serializers.CharField(
        required=False,
        allow_blank=True,
        default="",
        write_only=True,
        help_text='Sent with every probe, as "Name: value"; kept secret, never shown again.',
    )


class ProbeSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    state = serializers.CharField()
    scheduled_at = serializers.DateTimeField()
    recorded_at = serializers.DateTimeField(allow_null=True)
    outcome = serializers.CharField()
    detail = serializers.CharField()
    http_status = serializers.IntegerField(allow_null=True)
    connect_ms = serializers.FloatField(allow_null=True)
    total_ms = serializers.FloatField(allow_null=True)
    sla_met = serializers.BooleanField()
    data_version = serializers.CharField()


class CheckSerializer(ProbeSerializer):
    exchange = serializers.JSONField(
        help_text="The request sent (without the auth header) and the answer."
    )


def _endpoint_fields(endpoint: Endpoint) -> dict[str, Any]:
    return {
        "id": endpoint.id,
        "challenge": endpoint.challenge.slug,
        "participant": str(endpoint.participant.user),
        "url": endpoint.url,
        "protocol": endpoint.protocol,
        "model_name": endpoint.model_name,
        "auth_header_set": bool(endpoint.auth_header),
        "active": endpoint.active,
        "next_probe_at": endpoint.next_probe_at,
    }


def _readable(request: Request, endpoint_id: int) -> Endpoint:
    endpoint = endpoint_readable_by(request.user, endpoint_id)
    if endpoint is None:
        raise exceptions.NotFound(f"No endpoint {endpoint_id} of yours.")
    return endpoint


class EndpointRegisterView(APIView):
    @extend_schema(
        summary="Register your endpoint for this challenge (or change it)",
        request=EndpointRegistrationSerializer,
        responses={
            201: inline_serializer("EndpointRegistered", {"id": serializers.IntegerField()})
        },
    )
    def post(self, request: Request, slug: str) -> Response:
        challenge = visible_challenge(request, slug)
        participant = caller_participant(request, challenge)
        fields = EndpointRegistrationSerializer(data=request.data)
        fields.is_valid(raise_exception=True)
        try:
            endpoint, created = endpoint_register(participant=participant, **fields.validated_data)
        except DjangoValidationError as error:
            raise exceptions.ValidationError(error.message_dict) from None
        return Response(
            _endpoint_fields(endpoint),
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )


class EndpointDetailView(APIView):
    throttle_scope = POLLS

    @extend_schema(
        summary="Your endpoint: its metrics over the window and its recent probes",
        description="`metrics.score` is the live score as last published: at fixed times "
        "(`score_published_at`, next at `score_next_publication_at`), over `score_rows` "
        "rows, rounded to `score_step`, and replaced only when it moves by a whole step; "
        "null until first published.",
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request: Request, endpoint_id: int) -> Response:
        endpoint = _readable(request, endpoint_id)
        recent = list(reversed(endpoint_history(endpoint)))[:RECENT_PROBES]
        return Response(
            {
                **_endpoint_fields(endpoint),
                "window_hours": settings.PPIPE_PROBE_WINDOW_HOURS,
                "latency_sla_ms": endpoint.challenge.probe_rules.latency_sla_ms,
                "metrics": dataclasses.asdict(endpoint_metrics(endpoint)),
                "probes": ProbeSerializer(recent, many=True).data,
            }
        )


class EndpointCheckView(APIView):
    @extend_schema(
        summary="Probe your endpoint once now and see the raw exchange",
        description="Says whether the answer was valid, never its score. Limited per "
        "endpoint (a cool-down) and per student per day: 429 with Retry-After.",
        request=None,
        responses={200: CheckSerializer},
    )
    def post(self, request: Request, endpoint_id: int) -> Response:
        endpoint = _readable(request, endpoint_id)
        try:
            probe: Probe = endpoint_check(
                endpoint=endpoint,
                run=lambda job: run_probe_now(job, settings.PPIPE_PROBE_TIMEOUT_SECONDS + 10),
            )
        except CheckRefused as error:  # too soon, or the day's checks used: 429, Retry-After
            raise exceptions.Throttled(wait=error.seconds, detail=str(error)) from None
        return Response(CheckSerializer(probe).data)
