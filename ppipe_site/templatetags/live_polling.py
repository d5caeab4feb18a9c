"""`{% poll_trigger %}`: the hx-trigger of every polled fragment (foundation/live_fragments.py)."""

from __future__ import annotations

from django import template

from foundation.live_fragments import POLL_TRIGGER

register = template.Library()


@register.simple_tag
def poll_trigger() -> str:
    return POLL_TRIGGER
