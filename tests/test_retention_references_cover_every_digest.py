"""Every column that may refer to a stored file is read by the collector
(retention/references.py): a model that gains a `*sha256*` column or a JSON field
must be listed there, or listed with the reason it refers to no stored file.
A column forgotten there would be live data deleted."""

from __future__ import annotations

from django.apps import apps
from django.db import models

from retention.references import NOT_REFERENCES, REFERENCES, digests_in

PROJECT_APPS = {
    "challenges", "dispatch", "judging", "probing", "receipts", "grades", "notifications",
    "teams", "retention",
}  # fmt: skip


def _columns_that_may_hold_digests() -> set[str]:
    found = set()
    for model in apps.get_models():
        if model._meta.app_label not in PROJECT_APPS or model._meta.proxy:
            continue
        for field in model._meta.concrete_fields:
            if isinstance(field, models.JSONField) or "sha256" in field.name:
                found.add(f"{model._meta.label}.{field.name}")
    return found


def test_every_digest_or_json_column_is_a_reference_or_said_not_to_be() -> None:
    listed = {
        f"{source.model}.{column}"
        for source in REFERENCES
        for column in (*source.digests, *source.documents)
    }

    unaccounted = _columns_that_may_hold_digests() - listed - set(NOT_REFERENCES)

    assert not unaccounted, f"add to retention/references.py: {sorted(unaccounted)}"
    assert not listed & set(NOT_REFERENCES)


def test_digests_are_found_anywhere_in_a_document() -> None:
    digest = "ab" * 32
    document = {"code": {"sha256": digest}, "plans": [{"x": [digest.upper(), "c" * 64]}]}

    assert set(digests_in(document)) == {digest, "c" * 64}
