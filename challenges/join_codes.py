"""Join codes: how one typed by a student is compared with a challenge's, and how a
fresh one is made. Codes are unique across challenges without case (Challenge's
constraint), so a code alone names the challenge it opens."""

from __future__ import annotations

import secrets
from collections.abc import Callable

# No 0/o, 1/l/i: a code is read aloud or copied from a projector.
ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
LENGTH = 10


def join_code_normal(code: str) -> str:
    """The form codes are compared in: without surrounding spaces or case."""
    return code.strip().lower()


def join_code_matches(typed: str, join_code: str) -> bool:
    # Bytes: compare_digest refuses str with non-ASCII characters.
    return bool(join_code) and secrets.compare_digest(
        join_code_normal(typed).encode(), join_code_normal(join_code).encode()
    )


def join_code_fresh(taken: Callable[[str], bool]) -> str:
    """A random code that `taken` says no challenge has. 31**10 codes make a repeat
    unlikely; asking `taken` makes it impossible (the constraint guards the race)."""
    while True:
        code = "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))
        if not taken(code):
            return code
