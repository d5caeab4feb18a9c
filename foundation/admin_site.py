"""The admin site, with the navigation sidebar's list of apps and models kept per
process for each user and permission set.

Every admin page lists, in its navigation sidebar, the models its user may see:
Django builds that list on each request by asking every registered ModelAdmin
for its module, view, change, add and delete permissions and reversing two URLs
a model (about 30 models here: a few milliseconds of a list page's CPU). Those
answers depend only on who asks (the user, their flags and permission set), the
URL prefix and the language, so the list is kept under exactly those: a user who
gains or loses a permission has a new key at once, so the list a page shows is
never another permission set's. This holds while every ModelAdmin's model-level
permission methods (`obj=None`) decide from the user alone, as Django's do and
ours do (they call `has_perm`); one that read other data would have to stay out.
"""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from django.contrib import admin
from django.http import HttpRequest
from django.urls import get_script_prefix
from django.utils.translation import get_language

from foundation.kept_values import KeptValues

# Users and permission sets a process keeps lists for; the least recently used
# goes first.
KEPT_APP_LISTS = 512


def app_list_key(request: HttpRequest, app_label: str | None) -> Hashable | None:
    """What the app list depends on, or None for a user who sees no admin page (the
    login page's anonymous visitor), whose list is built as Django builds it."""
    user: Any = request.user
    if not (user.is_authenticated and user.is_active and user.is_staff):
        return None
    # A superuser holds every permission without reading them (Django's has_perm
    # answers True first); anyone else's set is read once a request and kept on the
    # user object by the auth backend, which the page's own checks use as well.
    permissions = "superuser" if user.is_superuser else frozenset(user.get_all_permissions())
    return (user.pk, permissions, app_label, get_script_prefix(), get_language())


class KeptAppListAdminSite(admin.AdminSite):
    def __init__(self, name: str = "admin") -> None:
        super().__init__(name)
        self._app_lists: KeptValues[list[dict[str, Any]]] = KeptValues(size=KEPT_APP_LISTS)

    def get_app_list(
        self, request: HttpRequest, app_label: str | None = None
    ) -> list[dict[str, Any]]:
        key = app_list_key(request, app_label)
        if key is None:
            return super().get_app_list(request, app_label)
        kept = self._app_lists.get_or_make(
            key, lambda: super(KeptAppListAdminSite, self).get_app_list(request, app_label)
        )
        # Copies of the dictionaries, so that a page that changed one (none of the
        # admin's does) could not change another request's.
        return [{**app, "models": [dict(model) for model in app["models"]]} for app in kept]
