"""Posting the real admin "add challenge" form, as a teacher's browser would."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.test.client import MULTIPART_CONTENT
from django.utils import timezone

from challenges.sections import challenge_sections
from tests.factories import iris_csv

ADD_URL = "/admin/challenges/challenge/add/"


def _split_datetime(moment: datetime) -> tuple[str, str]:
    local = timezone.localtime(moment)
    return local.strftime("%Y-%m-%d"), local.strftime("%H:%M:%S")


def challenge_form_data(**overrides: Any) -> dict[str, Any]:
    opens = timezone.now()
    closes = opens + timedelta(days=30)
    data: dict[str, Any] = {
        "name": "Iris",
        "slug": "iris",
        "description": "",
        "target_column": "species",
        "id_column": "",
        "task_type": "classification",
        "metric": "accuracy",
        "test_fraction": "0.3",
        "private_fraction": "0.5",
        "split_seed": "7",
        "cpu_seconds_limit": "60",
        "memory_mb_limit": "512",
        "wall_seconds_limit": "120",
        "submissions_per_day": "5",
        "release_proportions": "1",
        "release_interval_seconds": "86400",
        "release_format": "csv",
        "dataset": SimpleUploadedFile("iris.csv", iris_csv(), "text/csv"),
    }
    data["opens_at_0"], data["opens_at_1"] = _split_datetime(overrides.pop("opens_at", opens))
    data["closes_at_0"], data["closes_at_1"] = _split_datetime(overrides.pop("closes_at", closes))
    data.update(overrides)
    return _as_inlines(data)


def _as_inlines(data: dict[str, Any]) -> dict[str, Any]:
    """The apps' sections are inlines on the page (challenges/sections.py): their
    fields carry the inline's prefix, beside its management form."""
    posted = dict(data)
    for section in challenge_sections():
        prefix = section.accessor
        posted.update(
            {
                f"{prefix}-TOTAL_FORMS": "1",
                f"{prefix}-INITIAL_FORMS": "0",
                f"{prefix}-MIN_NUM_FORMS": "1",
                f"{prefix}-MAX_NUM_FORMS": "1",
            }
        )
        for name in section.field_names:
            if name in posted:
                posted[f"{prefix}-0-{name}"] = posted.pop(name)
    return posted


def post_add_challenge(client: Client, **overrides: Any) -> Any:
    return client.post(ADD_URL, challenge_form_data(**overrides), content_type=MULTIPART_CONTENT)


def section_form(response: Any, accessor: str) -> Any:
    """The form of a challenge's section (its inline) on the admin page the response rendered."""
    (inline,) = (
        inline
        for inline in response.context["inline_admin_formsets"]
        if inline.formset.prefix == accessor
    )
    return inline.formset.forms[0]


def form_errors(response: Any) -> dict[str, list[str]]:
    """Field -> messages, from the admin form the page rendered (empty when it saved)."""
    if response.status_code == 302:
        return {}
    forms = [response.context["adminform"].form]
    for inline in response.context["inline_admin_formsets"]:
        forms.extend(inline.formset.forms)
    return {
        field: [str(message) for message in messages]
        for form in forms
        for field, messages in form.errors.items()
    }
