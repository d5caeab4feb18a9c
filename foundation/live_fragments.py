"""Parts of a page that poll for changes with htmx (`hx-get` the fragment's URL
`every 5s`, `hx-swap="outerHTML"`).

A fragment carries a version of what it shows in its own URL (`?v=`). A poll
whose version is still current gets 204 No Content, which htmx does not swap:
the answer is a few bytes, and a table the reader has scrolled sideways on a
phone does not jump back every five seconds. A fragment that can no longer
change renders without its trigger, so the swap ends the polling; it answers
286, htmx's own "stop polling", as well.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

POLL_INTERVAL = "every 5s"
STOP_POLLING = 286


def fragment_version(*parts: object) -> str:
    """A short digest of what a fragment shows (its rows' reprs, the reader)."""
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


def live_fragment(
    request: HttpRequest,
    template: str,
    context: Callable[[], Mapping[str, Any]],
    *,
    version: str,
    live: bool,
) -> HttpResponse:
    """The fragment for a poll: 204 when the poller's version is current, else the
    fragment rendered from context() (built only then), 286 once it is final."""
    if live and request.GET.get("v") == version:
        return HttpResponse(status=204)
    response = render(request, template, {**context(), "live": live, "version": version})
    if not live:
        response.status_code = STOP_POLLING
    return response
