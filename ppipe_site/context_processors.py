from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def operators(request: HttpRequest) -> dict[str, str]:
    """Where the admin's Flower link points."""
    return {"flower_url": settings.FLOWER_URL}
