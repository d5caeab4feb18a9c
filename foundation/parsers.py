"""The API's JSON parser: the structure of a body is bounded before it is built.

`json.loads` recurses once per level of nesting: a body 100,000 levels deep
raises RecursionError (a 500), and a few megabytes of `[[],[],...]` become far
more memory in Python objects. So the raw bytes are scanned first (strings
skipped whole) and a body past the bounds is a 400 that says so. The body's
size itself is bounded earlier, by foundation.body_limits.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from worker_wing.bounded_json import ReportRejected, check_structure

# No request this API takes is nested deeper than a few levels or holds more
# than a few thousand values; the bounds leave room for scripts' extra fields.
MAX_DEPTH = 32
MAX_ITEMS = 100_000


class BoundedJSONParser(JSONParser):
    def parse(
        self,
        stream: IO[bytes],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        raw = stream.read() if stream is not None else b""
        try:
            check_structure(raw, max_depth=MAX_DEPTH, max_items=MAX_ITEMS)
        except ReportRejected as error:
            raise ParseError(
                f"The JSON body is {error}: send a flat object such as "
                '{"code": "..."} (see /api/docs/).'
            ) from None
        try:
            return json.loads(raw.decode(encoding), parse_constant=_refuse_constant)
        except (ValueError, UnicodeDecodeError) as error:
            raise ParseError(f"The body is not valid JSON: {error}.") from None


def _refuse_constant(name: str) -> Any:
    # NaN and Infinity are not JSON; DRF's strict parser refuses them too.
    raise ValueError(f"{name} is not a JSON value")
