"""Every form of the site renders through one template of ours: label above the
field, help under it, errors next to it (Django's own `as_p` runs labels into
help text). The admin lays out its forms itself and is not affected."""

from __future__ import annotations

from django.forms.renderers import DjangoTemplates


class SiteFormRenderer(DjangoTemplates):
    # Found by the renderer's own engine among the installed apps' templates.
    form_template_name = "ppipe/form.html"
