"""Limits on how often someone may try something: the answer when they may not,
and the join-code limit shared by the API and the pages.

A limit answers 429 with `Retry-After` (../shared/API.md) and a sentence saying
when the next try is possible. The throttles count in the cache every web
process shares (foundation/shared_cache.py), not in DRF's default per-process one.

Besides the overall rates (anon, user), each family of views that students'
scripts call in loops (polls, downloads, shared code, forks, the leaderboard,
questions, joining) has its own rate, its scope: a view names it with
`throttle_scope`, a page with `@page_throttle(scope)`. A refusal's body names the
limit and when to retry, because students' scripts read it.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from datetime import timedelta
from types import SimpleNamespace
from typing import Any, cast

from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.settings import api_settings
from rest_framework.throttling import (
    AnonRateThrottle,
    ScopedRateThrottle,
    SimpleRateThrottle,
    UserRateThrottle,
)

from foundation.shared_cache import throttle_cache


def _duration(seconds: int) -> str:
    if seconds < 90:
        return f"{seconds} second{'s' if seconds != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    if minutes < 90:
        return f"{minutes} minutes"
    return f"{math.ceil(minutes / 60)} hours"


def retry_message(what: str, wait_seconds: float) -> str:
    """'Too many <what>: the next is possible in 12 minutes (at 2025-03-01 14:05 UTC).'"""
    wait = max(1, math.ceil(wait_seconds))
    at = timezone.localtime(timezone.now() + timedelta(seconds=wait))
    return (
        f"Too many {what}: the next is possible in {_duration(wait)} (at {at:%Y-%m-%d %H:%M %Z})."
    )


def too_many(message: str, wait_seconds: float) -> exceptions.Throttled:
    """A 429 whose `Retry-After` is the wait and whose detail is the message alone
    (DRF's own would append "Expected available in N seconds")."""
    error = exceptions.Throttled(wait=max(1, math.ceil(wait_seconds)))
    error.detail = exceptions.ErrorDetail(message, code=error.default_code)
    return error


# The scopes of REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], and what a refusal calls
# the requests it counts.
POLLS = "polls"
DOWNLOADS = "downloads"
SHARED_CODE = "shared_code"
FORKS = "forks"
LEADERBOARD = "leaderboard"
RECEIPTS = "receipts"
JOINS = "joins"
COUNTED_AS = {
    "anon": "requests from your address",
    "user": "requests",
    POLLS: "status requests (submissions, reproductions, endpoints)",
    DOWNLOADS: "downloads",
    SHARED_CODE: "requests for shared code",
    FORKS: "forks",
    LEADERBOARD: "leaderboard requests",
    RECEIPTS: "question requests",
    JOINS: "join and team requests",
}
_PERIODS = {1: "second", 60: "minute", 3600: "hour", 86400: "day"}


class RateLimited(exceptions.Throttled):
    """A 429 that says which limit was reached: the error handler puts `limit`
    and `retry_after` in the body beside the sentence (foundation/api.py)."""

    def __init__(self, *, scope: str, requests: int, per_seconds: int, wait: float) -> None:
        seconds = max(1, math.ceil(wait))
        super().__init__(wait=seconds)
        period = _PERIODS.get(per_seconds, f"{per_seconds} seconds")
        what = f"{COUNTED_AS.get(scope, 'requests')} (at most {requests} a {period})"
        self.detail = exceptions.ErrorDetail(retry_message(what, seconds), code="throttled")
        self.scope = scope
        self.limit = {"scope": scope, "requests": requests, "per_seconds": per_seconds}
        self.retry_after = seconds


class ExplainedRefusal(SimpleRateThrottle):
    """A rate throttle whose refusal raises RateLimited rather than DRF's bare
    "Request was throttled": a script reads the limit from the body."""

    cache = throttle_cache
    # Set from the rate (SimpleRateThrottle.__init__, ScopedRateThrottle.allow_request).
    num_requests: int | None
    duration: int | None

    def get_rate(self) -> str | None:
        # Read when used, not when the class was defined, so a changed setting counts.
        rates = api_settings.DEFAULT_THROTTLE_RATES
        if self.scope not in rates:
            raise ImproperlyConfigured(f"No rate set for the throttle scope '{self.scope}'.")
        rate = rates[self.scope]
        return str(rate) if rate else None

    def throttle_failure(self) -> bool:
        raise RateLimited(
            scope=str(self.scope),
            requests=int(self.num_requests or 0),
            per_seconds=int(self.duration or 0),
            wait=self.wait() or 1.0,
        )


class SharedAnonRateThrottle(ExplainedRefusal, AnonRateThrottle):
    pass


class SharedUserRateThrottle(ExplainedRefusal, UserRateThrottle):
    pass


class SharedScopedRateThrottle(ExplainedRefusal, ScopedRateThrottle):
    """A view's family rate (its `throttle_scope`), per account, or per address for
    someone not signed in. A view without a scope is not counted here."""


def page_throttle(
    scope: str,
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """For a page that is not a DRF view (a download): the API family's throttle,
    counting in the same place, so the page is no way around the API's limit. A
    refusal is a plain-text 429 with `Retry-After`. Put it under @login_required
    so a signed-in user is counted as an account."""
    # What the throttle reads of a view: its scope. A page's request is no DRF
    # Request, but the throttle reads only what both have (user, META).
    holder: Any = SimpleNamespace(throttle_scope=scope)

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def throttled(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                SharedScopedRateThrottle().allow_request(cast(Any, request), holder)
            except RateLimited as refusal:
                response = HttpResponse(
                    str(refusal.detail), status=429, content_type="text/plain; charset=utf-8"
                )
                response["Retry-After"] = str(refusal.retry_after)
                return response
            return view(request, *args, **kwargs)

        return throttled

    return decorate


class JoinCodeThrottle(SimpleRateThrottle):
    """Join codes (a challenge's or a team's) tried per account, or per address
    for someone not signed in. A signed-in student's every try counts, right or
    wrong (they need one right one); sign-up counts only wrong codes, because a
    whole class behind one address signs up in the same hour. The rate is
    REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["join_code"]."""

    scope = "join_code"
    cache = throttle_cache
    # Set by SimpleRateThrottle.__init__ from the rate.
    num_requests: int | None
    duration: int | None

    def get_rate(self) -> str | None:
        # Read when used, not when the class was defined, so a changed setting counts.
        rate = api_settings.DEFAULT_THROTTLE_RATES.get(self.scope)
        return str(rate) if rate else None

    def get_cache_key(self, request: Any, view: Any) -> str:
        user = getattr(request, "user", None)
        ident = (
            f"user-{user.pk}"
            if user is not None and user.is_authenticated
            else self.get_ident(request)
        )
        return self.cache_format % {"scope": self.scope, "ident": ident}

    def wait_without_counting(self, request: Any) -> float:
        """allow_request's check alone: 0 if a try may go ahead, else the wait."""
        self.key = self.get_cache_key(request, None)
        self.history = self.cache.get(self.key, [])
        self.now = self.timer()
        if self.num_requests is None or self.duration is None:
            return 0.0  # no rate set: no limit
        while self.history and self.history[-1] <= self.now - self.duration:
            self.history.pop()
        if len(self.history) >= self.num_requests:
            return max(1.0, self.wait() or 1.0)
        return 0.0

    def count(self, request: Any) -> None:
        self.wait_without_counting(request)
        self.throttle_success()


JOIN_TRIES = "join-code tries"


def join_code_wait(request: HttpRequest | Any, *, count: bool = True) -> float:
    """0 if this caller may try a join code now (counting the try unless told
    not to), else the seconds until the next is allowed. Takes a page's
    HttpRequest or an API's."""
    throttle = JoinCodeThrottle()
    wait = throttle.wait_without_counting(request)
    if not wait and count:
        throttle.throttle_success()
    return wait


def join_code_refused(request: HttpRequest | Any) -> None:
    """Count a wrong code tried without being counted beforehand (sign-up)."""
    JoinCodeThrottle().count(request)


def check_join_code_api(request: Any) -> None:
    """For an API view: raise the 429 when the caller has tried too many codes."""
    wait = join_code_wait(request)
    if wait:
        raise too_many(retry_message(JOIN_TRIES, wait), wait)
