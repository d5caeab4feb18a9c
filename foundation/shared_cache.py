"""The cache every web process shares, for counts that must hold across them.

The API's throttles (join codes, request rates) count in a cache. Django's
default memory cache is one per process: under gunicorn's N workers a rate of
10 join codes an hour would allow 10·N. So the throttles count in the broker's
Redis, which every web process already reaches. A count is a guard, not data:
when Redis does not answer, the request goes through and the log says so,
rather than the whole API answering 500.
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.utils.connection import ConnectionProxy
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)

THROTTLES = "throttles"


class ForgivingRedisCache(RedisCache):
    """Redis's cache that lets a request through when Redis is unreachable."""

    def get(self, key: Any, default: Any = None, version: int | None = None) -> Any:
        try:
            return super().get(key, default, version)
        except RedisError as error:
            logger.warning("throttle counts unavailable, request allowed: %s", error)
            return default

    def set(self, key: Any, value: Any, timeout: Any = None, version: int | None = None) -> None:
        try:
            super().set(key, value, timeout, version)
        except RedisError as error:
            logger.warning("throttle count not kept: %s", error)


# What the throttles use instead of DRF's default cache.
throttle_cache: Any = ConnectionProxy(caches, THROTTLES)
