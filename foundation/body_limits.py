"""Request bodies refused by their declared size, before a byte of them is read.

Django parses a multipart body when a view (or the CSRF check) first touches
request.POST or request.FILES, and writes each file over
FILE_UPLOAD_MAX_MEMORY_SIZE to a temporary file as it goes: a 300 MB body sent
to a route that takes 256 KB would land on disk before any check could refuse
it. So this middleware, first in the chain, compares Content-Length with the
route's limit and answers 413 without reading. Django reads at most
Content-Length bytes, so a body that lies about its size is cut there; a
chunked body (no Content-Length) would be read as empty, so it is refused with
411 rather than misunderstood.

Each limit is the route's upload limit plus room for the form's other fields
and the multipart framing; a file a little over its limit still reaches the
form, which says by how much.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import Resolver404, resolve

MB = 1024 * 1024
# Form fields and multipart framing around the one file.
FORM_ROOM = MB

# Routes that take a challenge's dataset, and those that take a submission
# (URL names: the API's and the admin's).
DATASET_ROUTES = frozenset(
    {"api-challenges", "challenges_challenge_add", "challenges_challenge_change"}
)
SUBMISSION_ROUTES = frozenset({"api-submission-create", "challenge"})


def _size(count: int) -> str:
    return f"{count / MB:.1f} MB" if count >= MB else f"{max(1, count // 1024)} KB"


def route_limit(request: HttpRequest) -> tuple[int, str]:
    """The most bytes this route's body may have, and what it is for."""
    try:
        name = resolve(request.path_info).url_name or ""
    except Resolver404:
        name = ""
    if name in DATASET_ROUTES:
        return settings.PPIPE_MAX_DATASET_MB * MB + FORM_ROOM, (
            f"a dataset is limited to {settings.PPIPE_MAX_DATASET_MB} MB (PPIPE_MAX_DATASET_MB)"
        )
    if name in SUBMISSION_ROUTES:
        return settings.PPIPE_MAX_SUBMISSION_KB * 1024 + FORM_ROOM, (
            f"a submission is limited to {settings.PPIPE_MAX_SUBMISSION_KB} KB "
            "(PPIPE_MAX_SUBMISSION_KB)"
        )
    return settings.PPIPE_MAX_REQUEST_KB * 1024, (
        f"a request here is limited to {_size(settings.PPIPE_MAX_REQUEST_KB * 1024)} "
        "(PPIPE_MAX_REQUEST_KB)"
    )


def _refusal(request: HttpRequest, status: int, message: str) -> HttpResponse:
    if request.path_info.startswith("/api/"):
        return JsonResponse({"detail": message, "errors": {}}, status=status)
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


class BodySizeLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        declared = request.META.get("CONTENT_LENGTH") or ""
        if not declared:
            if request.META.get("HTTP_TRANSFER_ENCODING"):
                return _refusal(
                    request,
                    411,
                    "Send the body with a Content-Length header: "
                    "bodies of unknown length (chunked) are not accepted.",
                )
            return self.get_response(request)
        try:
            length = int(declared)
        except ValueError:
            return _refusal(request, 400, f"Content-Length {declared[:40]!r} is not a number.")
        # Every route takes at least the smallest limit: no URL lookup for most requests.
        if length > _smallest_limit():
            limit, what = route_limit(request)
            if length > limit:
                return _refusal(
                    request, 413, f"The body is {_size(length)}; {what}. Nothing was stored."
                )
        return self.get_response(request)


def _smallest_limit() -> int:
    return min(
        settings.PPIPE_MAX_SUBMISSION_KB * 1024 + FORM_ROOM,
        settings.PPIPE_MAX_DATASET_MB * MB + FORM_ROOM,
        settings.PPIPE_MAX_REQUEST_KB * 1024,
    )
