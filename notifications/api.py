"""A person's notification switches over the API: GET shows them, PUT or PATCH
changes the ones sent."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from foundation.api import caller
from notifications.models import NotificationPreferences
from notifications.selectors import preferences_of
from notifications.services import PREFERENCE_FIELDS, preferences_update


class PreferencesSerializer(serializers.ModelSerializer[NotificationPreferences]):
    class Meta:
        model = NotificationPreferences
        fields = PREFERENCE_FIELDS
        extra_kwargs = {name: {"required": False} for name in PREFERENCE_FIELDS}


class PreferencesView(APIView):
    @extend_schema(
        summary="Which mails you get (all on until you switch some off)",
        responses=PreferencesSerializer,
    )
    def get(self, request: Request) -> Response:
        return Response(PreferencesSerializer(preferences_of(caller(request).pk)).data)

    @extend_schema(
        summary="Switch kinds of mail on or off (the switches sent; the others stay)",
        request=PreferencesSerializer,
        responses=PreferencesSerializer,
    )
    def put(self, request: Request) -> Response:
        return self._update(request)

    @extend_schema(
        summary="Switch kinds of mail on or off (the switches sent; the others stay)",
        request=PreferencesSerializer,
        responses=PreferencesSerializer,
    )
    def patch(self, request: Request) -> Response:
        return self._update(request)

    def _update(self, request: Request) -> Response:
        unknown = sorted(set(request.data) - set(PREFERENCE_FIELDS))
        if unknown:
            known = ", ".join(PREFERENCE_FIELDS)
            raise exceptions.ValidationError(
                {name: [f"Not a switch: use {known}."] for name in unknown}
            )
        given = PreferencesSerializer(data=request.data, partial=True)
        given.is_valid(raise_exception=True)
        changes: dict[str, Any] = dict(given.validated_data)
        saved = preferences_update(user_id=caller(request).pk, changes=changes)
        return Response(PreferencesSerializer(saved).data)
