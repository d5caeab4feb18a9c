"""What every API view shares: the error shape, form errors as API errors, and
who counts as a teacher.

Errors are `{"detail": "...", "errors": {field: [messages]}}` (../shared/API.md):
`detail` is one sentence a person can act on, `errors` names the fields.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.core.exceptions import NON_FIELD_ERRORS
from rest_framework import exceptions, permissions
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework.views import exception_handler as drf_exception_handler

from foundation.accounts import TEACHERS_GROUP
from foundation.throttles import RateLimited

NON_FIELD = "non_field_errors"


def _messages(value: Any) -> list[str]:
    if isinstance(value, list | tuple):
        return [message for item in value for message in _messages(item)]
    if isinstance(value, dict):
        return [f"{key}: {message}" for key, item in value.items() for message in _messages(item)]
    return [str(value)]


def _summary(errors: dict[str, list[str]]) -> str:
    parts = [
        message if field == NON_FIELD else f"{field}: {message}"
        for field, messages in errors.items()
        for message in messages[:1]
    ]
    return "Please fix: " + " ".join(parts) if parts else "The request is not valid."


def error_shape_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        data = response.data if isinstance(response.data, dict) else {NON_FIELD: response.data}
        errors = {str(field): _messages(value) for field, value in data.items()}
        response.data = {"detail": _summary(errors), "errors": errors}
    else:
        detail = response.data.get("detail", "") if isinstance(response.data, dict) else ""
        response.data = {"detail": str(detail or exc), "errors": {}}
    if isinstance(exc, RateLimited):
        # For scripts: which limit, and the seconds `Retry-After` also says.
        response.data["limit"] = exc.limit
        response.data["retry_after"] = exc.retry_after
    return response


def form_errors(form: forms.BaseForm) -> exceptions.ValidationError:
    """A Django form's errors as the API's 400, with the admin's messages."""
    return exceptions.ValidationError(
        {
            NON_FIELD if field == NON_FIELD_ERRORS else field: [str(m) for m in messages]
            for field, messages in form.errors.items()
        }
    )


def caller(request: Request) -> User:
    """The authenticated user of an API request (every view requires one)."""
    user = request.user
    if not isinstance(user, User):
        raise exceptions.NotAuthenticated()
    return user


def is_teacher(user: AbstractBaseUser | AnonymousUser) -> bool:
    if not user.is_authenticated:
        return False
    if getattr(user, "is_superuser", False):
        return True
    return isinstance(user, User) and user.groups.filter(name=TEACHERS_GROUP).exists()


class IsTeacher(permissions.BasePermission):
    message = "Only teachers may do this: ask an administrator to add you to the Teachers group."

    def has_permission(self, request: Request, view: APIView) -> bool:
        return is_teacher(request.user)
