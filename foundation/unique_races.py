"""Two saves racing for one unique value (a slug, a join code): each form's check
ran before the other's transaction committed, so both passed, and the database's
constraint refused the second save. Without this the second teacher gets a 500.

The request is run once more: its whole transaction was rolled back, and its
validation now sees the committed row, so it answers with the field's own error
("Another challenge already has this join code"), as if the two had not raced.
Only a unique violation is retried, and only once: any other integrity error,
or the same one again, is a bug and still fails loudly.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar

from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError

T = TypeVar("T")

# PostgreSQL's SQLSTATE for unique_violation; SQLite says it in the message.
UNIQUE_VIOLATION = "23505"


def is_unique_violation(error: IntegrityError) -> bool:
    cause = error.__cause__
    return getattr(cause, "sqlstate", None) == UNIQUE_VIOLATION or (
        "UNIQUE constraint failed" in str(error)
    )


def validated_again_after_a_unique_race(
    uploads: Mapping[str, UploadedFile], run: Callable[[], T]
) -> T:
    """`run()`, which validates and saves in one transaction (reading `uploads`, the
    request's files); run again once when its save lost a race for a unique value."""
    try:
        return run()
    except IntegrityError as error:
        if not is_unique_violation(error):
            raise
    # The first run read the uploads to their end.
    for upload in uploads.values():
        upload.seek(0)
    return run()
