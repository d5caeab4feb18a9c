"""Rendered HTML kept per process under everything it was rendered from.

The admin's sidebars are the same few kilobytes on most pages and cost a few
milliseconds of template rendering each time. A `KeptHtml` keeps the rendered
text under a key that its caller builds from every value the template reads,
so a changed value makes a new key and a page never shows an older rendering:
nothing to invalidate, only a bound on how many are kept (the least recently
used goes first).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable

from django.utils.safestring import SafeString


class KeptHtml:
    def __init__(self, size: int) -> None:
        self.size = size
        self._kept: OrderedDict[Hashable, SafeString] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable, render: Callable[[], SafeString]) -> SafeString:
        with self._lock:
            html = self._kept.get(key)
            if html is not None:
                self._kept.move_to_end(key)
                return html
        html = render()
        with self._lock:
            self._kept[key] = html
            while len(self._kept) > self.size:
                self._kept.popitem(last=False)
        return html
