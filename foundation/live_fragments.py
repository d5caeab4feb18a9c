"""Parts of a page that poll for changes with htmx (`hx-get` the fragment's URL
every 5 s while the tab is visible, `hx-swap="outerHTML"`; `{% poll_trigger %}`).

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
from functools import wraps
from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django_htmx.http import HttpResponseClientRefresh

# Every five seconds while the tab is seen, and at once when it is seen again: a
# class leaves its leaderboards open in background tabs all day, and a hidden tab's
# polls would cost the server as much as a read one's.
VISIBLE = "[document.visibilityState=='visible']"
POLL_TRIGGER = f"every 5s {VISIBLE}, visibilitychange{VISIBLE} from:document"
STOP_POLLING = 286


View = Callable[..., HttpResponse]


def fragment_login_required(view: View) -> View:
    """login_required for a polled fragment: a poll whose session has ended asks
    htmx to reload the whole page (which then goes to the login page) rather than
    follow the redirect and swap the login form into the fragment."""
    guarded = login_required(view)

    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if getattr(request, "htmx", False) and not request.user.is_authenticated:
            return HttpResponseClientRefresh()
        return guarded(request, *args, **kwargs)

    return wrapped


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
