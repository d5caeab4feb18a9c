"""The admin's sidebars, each rendered once per process for everything it shows
(foundation/kept_values.py): `{% kept_nav_sidebar %}`, the navigation sidebar
(admin/nav_sidebar.html) for each list of apps, page and language;
`{% kept_list_filter cl spec %}`, one list filter (admin/filter.html) for each
title and set of choices."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any

from django import template
from django.contrib.admin import ListFilter
from django.contrib.admin.views.main import ChangeList
from django.template.loader import get_template
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from foundation.kept_values import KeptValues

register = template.Library()

# Users' lists times the pages they visit (a change page's path is its own key);
# a sidebar is about 10 kB, so at most about 5 MB a process.
_SIDEBARS: KeptValues[SafeString] = KeptValues(size=512)


def _apps_key(apps: list[dict[str, Any]]) -> Hashable:
    """Every value of the app list that admin/app_list.html reads."""
    return tuple(
        (
            app["app_label"],
            app["app_url"],
            str(app["name"]),
            tuple(
                (
                    model["object_name"],
                    str(model["name"]),
                    model["admin_url"],
                    model["add_url"],
                    model.get("view_only"),
                )
                for model in app["models"]
            ),
        )
        for app in apps
    )


@register.simple_tag(takes_context=True)
def kept_nav_sidebar(context: template.Context) -> SafeString:
    request = context.get("request")
    apps = context.get("available_apps") or []

    def render() -> SafeString:
        sidebar = get_template("admin/nav_sidebar.html")
        # The template's own output, escaped by the engine.
        return mark_safe(sidebar.render({"available_apps": apps, "request": request}))  # noqa: S308

    if request is None:
        return render()  # a page rendered without its request: nothing to key it by
    # What the template reads: the apps, the page's path (its current model is
    # marked) and the language of its words.
    key = (_apps_key(apps), request.path, get_language())
    return _SIDEBARS.get_or_make(key, render)


_FILTERS: KeptValues[SafeString] = KeptValues(size=2048)
# The admin's own template reads the filter's title and its choices, nothing else.
_FILTER_TEMPLATE = "admin/filter.html"


@register.simple_tag
def kept_list_filter(cl: ChangeList, spec: ListFilter) -> SafeString:
    """The admin's `admin_list_filter`, kept under the filter's title and choices
    (each link's query string, text and whether it is selected): the choices are
    still worked out on every page (a challenge filter's from the database), only
    their rendering is kept."""
    choices = list(spec.choices(cl))

    def render() -> SafeString:
        context = {"title": spec.title, "choices": choices, "spec": spec}
        return mark_safe(get_template(spec.template).render(context))  # noqa: S308

    if spec.template != _FILTER_TEMPLATE:
        return render()  # a template of its own may read more than the choices
    key = (
        str(spec.title),
        tuple(tuple(sorted((name, str(value)) for name, value in c.items())) for c in choices),
        get_language(),
    )
    return _FILTERS.get_or_make(key, render)
