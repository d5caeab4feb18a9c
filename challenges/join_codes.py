"""Join codes: how one typed by a student is compared with a challenge's. Codes are
unique across challenges without case (Challenge's constraint), so a code alone
names the challenge it opens. Teachers choose them; migration 0014 made the only
generated ones (for challenges that shared a code)."""

from __future__ import annotations

import secrets


def join_code_normal(code: str) -> str:
    """The form codes are compared in: without surrounding spaces or case."""
    return code.strip().lower()


def join_code_matches(typed: str, join_code: str) -> bool:
    # Bytes: compare_digest refuses str with non-ASCII characters.
    return bool(join_code) and secrets.compare_digest(
        join_code_normal(typed).encode(), join_code_normal(join_code).encode()
    )
