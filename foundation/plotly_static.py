"""plotly.js as a static file: the plotly package ships its own build
(package_data/plotly.min.js), so the site serves that file, the very version the
figures are built for, at static/plotly/plotly.min.js with no copy in the
repository and no CDN. The finder offers that one file, not the package's
datasets and templates."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, overload

import plotly
from django.contrib.staticfiles.finders import BaseFinder
from django.core.checks import CheckMessage, Error
from django.core.files.storage import FileSystemStorage

PREFIX = "plotly"
NAME = "plotly.min.js"
PACKAGE_DATA = Path(plotly.__file__).parent / "package_data"


class PlotlyJsFinder(BaseFinder):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.storage = FileSystemStorage(location=PACKAGE_DATA)
        # collectstatic puts a storage's files under its prefix.
        self.storage.prefix = PREFIX  # type: ignore[attr-defined]

    def check(self, **kwargs: Any) -> list[CheckMessage]:
        if (PACKAGE_DATA / NAME).is_file():
            return []
        return [Error(f"{PACKAGE_DATA / NAME} is missing: reinstall the plotly package.")]

    @overload
    def find(self, path: str, find_all: Literal[False] = False) -> str | None: ...

    @overload
    def find(self, path: str, find_all: Literal[True]) -> list[str]: ...

    def find(self, path: str, find_all: bool = False) -> str | list[str] | None:
        found = str(PACKAGE_DATA / NAME) if path == f"{PREFIX}/{NAME}" else None
        if find_all:
            return [found] if found else []
        return found

    def list(self, ignore_patterns: Any) -> list[tuple[str, FileSystemStorage]]:
        return [(NAME, self.storage)]
