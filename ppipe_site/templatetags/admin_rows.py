"""`{% list_rows_of cl %}`: the admin's result list with rows formatted directly
(foundation/admin_lists.py), for lists whose columns are all methods."""

from __future__ import annotations

from typing import Any

from django import template
from django.contrib.admin.templatetags.admin_list import result_list
from django.contrib.admin.views.main import ChangeList

from foundation.admin_lists import list_rows

register = template.Library()


@register.inclusion_tag("admin/change_list_results.html")
def list_rows_of(cl: ChangeList) -> dict[str, Any]:
    # A popup (a lookup from another form) or an editable list needs what the
    # admin's own rows carry: its data-popup-opener links, its forms.
    if cl.is_popup or cl.formset:
        return dict(result_list(cl))
    return list_rows(cl)
