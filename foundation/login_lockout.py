"""Sign-in attempts, counted by django-axes per account and per address: the
token endpoint that puts them through axes, and what a locked-out caller sees.

axes records each failure that `authenticate(request=...)` reports, for the
login page, the admin's and the API's token alike, and refuses every try (the
right password too) for AXES_COOLOFF_TIME once an account or an address
reaches AXES_FAILURE_LIMIT failures. A try during the lockout starts the
cool-off again, so `Retry-After` is the whole cool-off.
"""

from __future__ import annotations

import ipaddress
from typing import Any, cast

from axes.backends import AxesStandaloneBackend
from axes.helpers import get_cool_off
from django.contrib.auth.forms import AuthenticationForm
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework.views import APIView

from foundation.parsers import BoundedJSONParser
from foundation.throttles import retry_message, too_many

LOCKED_OUT = "failed sign-ins for this account or from this address"


class AxesBackendForRequests(AxesStandaloneBackend):
    """AxesStandaloneBackend, first in AUTHENTICATION_BACKENDS, except that a check
    of a password with no request (a management command, a shell, a test) is left
    to the next backend instead of raising: there is no address to count and no
    caller to lock out. Every web sign-in passes its request (Django's login
    forms, TokenView), so each is counted."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> None:
        # Never a user: axes only refuses (by raising) or lets the next backend check.
        if request is not None:
            super().authenticate(request, username, password, **kwargs)


def client_address(request: HttpRequest) -> str | None:
    """AXES_CLIENT_IP_CALLABLE: REMOTE_ADDR, or the address the declared proxies
    (PPIPE_TRUSTED_PROXIES) put in X-Forwarded-For, exactly as the throttles see it;
    None when there is none (a test client's force_login), which axes stores as such."""
    if not request.META.get("REMOTE_ADDR") and not request.META.get("HTTP_X_FORWARDED_FOR"):
        return None
    address = str(BaseThrottle().get_ident(cast(Any, request)) or "").strip()
    try:
        return str(ipaddress.ip_address(address))
    except ValueError:  # not an address: axes would fail to store it
        return request.META.get("REMOTE_ADDR") or None


def cool_off_seconds(request: HttpRequest) -> int:
    cool_off = get_cool_off(request)
    return int(cool_off.total_seconds()) if cool_off else 3600


def lockout_message(request: HttpRequest) -> str:
    return retry_message(LOCKED_OUT, cool_off_seconds(request))


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: Any = None
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the API gets the error shape with `Retry-After`, a
    page gets the login form again with the message, both with 429."""
    if original_response is not None and original_response.status_code == 429:
        return original_response  # the token view answered the lockout already
    wait = cool_off_seconds(request)
    message = lockout_message(request)
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse({"detail": message, "errors": {}}, status=429)
    else:
        username = (credentials or {}).get("username") or request.POST.get("username", "")
        form = AuthenticationForm(request, initial={"username": username})
        next_url = request.POST.get("next") or request.GET.get("next", "")
        context = {"form": form, "lockout": message, "next": next_url}
        response = render(request, "registration/login.html", context, status=429)
    response["Retry-After"] = str(wait)
    return response


class TokenView(ObtainAuthToken):
    """POST /api/auth/token/: DRF's view, with the attempt seen by axes (the
    serializer's `authenticate` gets the Django request the middleware reads),
    the anonymous rate limit, and JSON parsed within bounds."""

    # DRF's view has none; the API's default (the anonymous rate) applies here too.
    throttle_classes = APIView.throttle_classes
    parser_classes = (
        BoundedJSONParser,
        *(p for p in ObtainAuthToken.parser_classes if p.media_type != "application/json"),
    )

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), "request": self.request._request}

    @extend_schema(
        summary="A token for `Authorization: Token <token>`",
        request=inline_serializer(
            "TokenRequest",
            {"username": serializers.CharField(), "password": serializers.CharField()},
        ),
        responses={
            200: inline_serializer("TokenResponse", {"token": serializers.CharField()}),
            400: OpenApiResponse(description="Wrong username or password."),
            429: OpenApiResponse(
                description="Too many failed sign-ins for the account or from the address: "
                "`Retry-After` says when to try again (the right password is refused too)."
            ),
        },
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        if not serializer.is_valid():
            if getattr(request._request, "axes_locked_out", False):
                django_request = request._request
                raise too_many(lockout_message(django_request), cool_off_seconds(django_request))
            raise exceptions.ValidationError(serializer.errors)
        token, _ = Token.objects.get_or_create(user=serializer.validated_data["user"])
        return Response({"token": token.key})
