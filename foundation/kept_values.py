"""Values a process computed lately, kept as they are under a key, the least
recently used dropped beyond a bound.

For what is costly to make and is named completely by its key: a digest of a
leaderboard's inputs, the HTML of a sidebar under everything it shows, an admin
app list under its user's permission set. A changed input makes a new key, so
nothing kept is ever stale and nothing needs invalidating; the bound only limits
memory. Django's local-memory cache would do the same but pickles each value on
every set and get (a rendered table is a few hundred kilobytes), and
functools.lru_cache keys by a function's arguments, not by a key the caller
builds. Thread-safe: gunicorn serves with threads.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class KeptValues(Generic[V]):
    def __init__(self, size: int) -> None:
        self.size = size
        self._values: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            value = self._values.get(key)
            if value is not None:
                self._values.move_to_end(key)
            return value

    def put(self, key: Hashable, value: V) -> None:
        with self._lock:
            self._values[key] = value
            self._values.move_to_end(key)
            while len(self._values) > self.size:
                self._values.popitem(last=False)

    def get_or_make(self, key: Hashable, make: Callable[[], V]) -> V:
        """The kept value, or make()'s, kept (made outside the lock: two threads
        may both make it, and either result is right)."""
        value = self.get(key)
        if value is None:
            value = make()
            self.put(key, value)
        return value
