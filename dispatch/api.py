"""Destinations over the API (teachers): the admin's form, secrets write-only.

`params` holds every rclone option; the ones that are secret (SECRET_OPTIONS)
are stored apart and only their names are ever returned.
"""

from __future__ import annotations

import json
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from dispatch.forms import DestinationForm
from dispatch.models import Destination
from dispatch.selectors import destinations_owned_by
from foundation.api import IsTeacher, caller
from worker_wing.release.remotes import SECRET_OPTIONS


class DestinationInSerializer(serializers.Serializer[Any]):
    name = serializers.CharField()
    type = serializers.CharField()
    path = serializers.CharField(required=False, allow_blank=True, default="")
    params = serializers.DictField(
        child=serializers.CharField(allow_blank=True),
        required=False,
        default=dict,
        help_text="rclone options; secret ones (keys, passwords) are write-only.",
    )


class DestinationSerializer(serializers.Serializer[Any]):
    id = serializers.IntegerField()
    name = serializers.CharField()
    type = serializers.CharField()
    path = serializers.CharField()
    params = serializers.DictField(source="options", child=serializers.CharField())
    secret_params_set = serializers.SerializerMethodField(
        help_text="Names of the secret options stored (never their values)."
    )

    def get_secret_params_set(self, destination: Destination) -> list[str]:
        return sorted(destination.secret_options)


class DestinationListView(APIView):
    permission_classes = [IsTeacher]

    @extend_schema(responses=DestinationSerializer(many=True), summary="Your destinations")
    def get(self, request: Request) -> Response:
        destinations = destinations_owned_by(request.user).order_by("name")
        return Response(DestinationSerializer(destinations, many=True).data)

    @extend_schema(
        request=DestinationInSerializer,
        responses={201: DestinationSerializer},
        summary="Add a destination (an rclone remote releases go to)",
    )
    def post(self, request: Request) -> Response:
        body = DestinationInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        params: dict[str, str] = body.validated_data["params"]
        if destinations_owned_by(request.user).filter(name=body.validated_data["name"]).exists():
            raise exceptions.ValidationError(
                {"name": ["You already have a destination of that name."]}
            )
        form = DestinationForm(
            {
                "name": body.validated_data["name"],
                "type": body.validated_data["type"],
                "path": body.validated_data["path"],
                "options_text": json.dumps(
                    {k: v for k, v in params.items() if k not in SECRET_OPTIONS}
                ),
                "secrets_text": json.dumps(
                    {k: v for k, v in params.items() if k in SECRET_OPTIONS}
                ),
            },
            instance=Destination(owner=caller(request)),
        )
        if not form.is_valid():
            # The form's two option fields are the API's `params`.
            renamed = {"options_text": "params", "secrets_text": "params"}
            errors: dict[str, list[str]] = {}
            for field, messages in form.errors.items():
                errors.setdefault(renamed.get(field, field), []).extend(str(m) for m in messages)
            raise exceptions.ValidationError(errors)
        destination = form.save()
        return Response(DestinationSerializer(destination).data, status=status.HTTP_201_CREATED)
