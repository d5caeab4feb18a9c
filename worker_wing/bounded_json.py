"""Parsing JSON that came out of a sandbox, with its size of structure checked first.

A report of 64 MB can hold twenty million empty lists, which `json.loads` turns
into gigabytes of Python objects in the judge worker. So the structure is
counted on the raw bytes before anything is built: strings are skipped whole
(base64 predictions are one long string), and the count stops at the first
bracket or comma past the bound.
"""

from __future__ import annotations

import json
import re
from typing import Any

# A string (skipped whole, escapes included) or one structural character.
_TOKEN = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{},]')


class ReportRejected(ValueError):
    """The JSON is nested deeper or holds more values than allowed."""


def check_structure(data: bytes, *, max_depth: int, max_items: int) -> None:
    depth = items = 0
    for match in _TOKEN.finditer(data):
        token = match.group()
        if token in (b"[", b"{"):
            depth += 1
            items += 1
            if depth > max_depth:
                raise ReportRejected(f"nested deeper than {max_depth} levels")
        elif token in (b"]", b"}"):
            depth -= 1
        elif token == b",":
            items += 1
        if items > max_items:
            raise ReportRejected(f"holds more than {max_items} values")


def loads_bounded(data: bytes, *, max_depth: int, max_items: int) -> Any:
    """The parsed JSON, once its structure is within the bounds; ReportRejected
    for JSON past them or not JSON at all."""
    check_structure(data, max_depth=max_depth, max_items=max_items)
    try:
        return json.loads(data)
    except ValueError as error:
        raise ReportRejected(f"not JSON ({error})") from None
