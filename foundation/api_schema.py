"""The OpenAPI schema's view of the rate limits: every operation of a view with a
`throttle_scope` documents its 429, so a student reading /api/docs/ learns about
`Retry-After` where they would hit it (foundation/throttles.py)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

RATE_LIMITED = OpenApiResponse(
    response=inline_serializer(
        "RateLimited",
        {
            "detail": serializers.CharField(
                help_text="Which limit was reached and when the next request is possible."
            ),
            "errors": serializers.DictField(),
            "limit": inline_serializer(
                "RateLimit",
                {
                    "scope": serializers.CharField(),
                    "requests": serializers.IntegerField(),
                    "per_seconds": serializers.IntegerField(),
                },
            ),
            "retry_after": serializers.IntegerField(help_text="Seconds; as `Retry-After`."),
        },
    ),
    description="Too many requests of this kind from your account (or, signed out, your "
    "address): wait the seconds the `Retry-After` header gives, then try again. The body "
    "names the limit (`limit`: requests per `per_seconds`) and repeats the wait "
    "(`retry_after`).",
)


class RateLimitedAutoSchema(AutoSchema):
    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        # drf-spectacular's private step (pinned version): the one place that sees both
        # a view's own responses (from @extend_schema) and the view, whose scope says
        # whether it is limited.
        responses: dict[str, Any] = super()._get_response_bodies(direction)
        if getattr(self.view, "throttle_scope", None) and "429" not in responses:
            responses["429"] = self._get_response_for_code(RATE_LIMITED, "429", None, direction)
        return responses
