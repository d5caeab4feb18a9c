"""Limits on how often someone may try something: the answer when they may not,
and the join-code limit shared by the API and the pages.

A limit answers 429 with `Retry-After` (../shared/API.md) and a sentence saying
when the next try is possible. The throttles count in the cache every web
process shares (foundation/shared_cache.py), not in DRF's default per-process one.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

from django.http import HttpRequest
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.settings import api_settings
from rest_framework.throttling import AnonRateThrottle, SimpleRateThrottle, UserRateThrottle

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


class SharedAnonRateThrottle(AnonRateThrottle):
    cache = throttle_cache


class SharedUserRateThrottle(UserRateThrottle):
    cache = throttle_cache


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
