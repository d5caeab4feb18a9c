"""INSTALLED_APPS' entry for the admin, apart from the site (foundation/admin_site.py),
which imports the admin's models: this is read while the apps load."""

from __future__ import annotations

from django.contrib.admin.apps import AdminConfig


class KeptAppListAdminConfig(AdminConfig):
    """The admin, whose default site keeps its navigation sidebar per user."""

    default_site = "foundation.admin_site.KeptAppListAdminSite"
