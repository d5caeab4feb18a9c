"""A class roster: students' accounts made from a CSV of usernames and emails.

All or nothing: one bad line and nothing is created, and the teacher is told
which line and why. New accounts get a random password, shown to the teacher
once (to hand out); existing accounts are enrolled as they are.
"""

from __future__ import annotations

import csv
import io
import secrets
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from challenges.models import Challenge
from challenges.services import participant_enroll

_MAX_LINES = 2000


class RosterError(ValueError):
    """The roster cannot be imported; the message names the line and the fix."""


@dataclass(frozen=True)
class RosterEntry:
    username: str
    email: str


@dataclass(frozen=True)
class RosterAccount:
    username: str
    email: str
    # Set only for an account this import created.
    password: str | None


def roster_parse(text: str) -> list[RosterEntry]:
    """Read `username,email` lines (a header line is allowed)."""
    rows = [row for row in csv.reader(io.StringIO(text)) if any(cell.strip() for cell in row)]
    if rows and [cell.strip().lower() for cell in rows[0][:2]] == ["username", "email"]:
        rows = rows[1:]
    if not rows:
        raise RosterError("The roster is empty: give one 'username,email' line per student.")
    if len(rows) > _MAX_LINES:
        raise RosterError(f"The roster has {len(rows)} lines; import at most {_MAX_LINES} at once.")
    entries, seen = [], set()
    for number, row in enumerate(rows, start=1):
        if len(row) != 2:
            raise RosterError(f"Line {number}: expected 'username,email', got {len(row)} fields.")
        username, email = row[0].strip(), row[1].strip()
        try:
            UnicodeUsernameValidator()(username)
            validate_email(email)
        except ValidationError as error:
            raise RosterError(f"Line {number} ({username}): {' '.join(error.messages)}") from None
        if username in seen:
            raise RosterError(f"Line {number}: {username} appears twice.")
        seen.add(username)
        entries.append(RosterEntry(username=username, email=email))
    return entries


@transaction.atomic
def roster_import(*, challenge: Challenge, entries: list[RosterEntry]) -> list[RosterAccount]:
    """Create the missing accounts and enrol everyone in the challenge."""
    users = get_user_model()
    accounts = []
    for entry in entries:
        user = users.objects.filter(username=entry.username).first()
        password = None
        if user is None:
            password = secrets.token_urlsafe(9)
            user = users.objects.create_user(
                username=entry.username, email=entry.email, password=password
            )
        elif user.is_staff:
            raise RosterError(
                f"{entry.username} is a staff account: teachers are not enrolled as students."
            )
        participant_enroll(challenge=challenge, user=user)
        accounts.append(RosterAccount(entry.username, entry.email, password))
    return accounts
