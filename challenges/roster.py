"""A class roster: students' accounts made from a CSV of usernames and emails.

All or nothing: one bad line and nothing is created, and the teacher is told
every bad line at once, by its line number in the file (the header is line 1),
so one round of fixes is enough. New accounts get a random password, shown to
the teacher once and offered as a CSV to download (built in the page itself:
the passwords are never stored or logged); existing accounts are enrolled as
they are.
"""

from __future__ import annotations

import base64
import csv
import io
import secrets
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.validators import UnicodeUsernameValidator
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from challenges.csv_sniffing import UnclosedQuote, numbered_rows
from challenges.models import Challenge
from challenges.services import participant_enroll
from foundation.spreadsheet_cells import spreadsheet_text

_MAX_LINES = 2000
# No look-alikes (0/O, 1/l/I) for passwords read off a sheet of paper, and no
# leading '-', '+', '=' or '@' that a spreadsheet would take for a formula.
_HANDOUT_CHARACTERS = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_HANDOUT_LENGTH = 12  # about 69 bits


class RosterError(ValueError):
    """The roster cannot be imported; `problems` names each bad line and its fix."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(" ".join(problems))


@dataclass(frozen=True)
class RosterEntry:
    line: int  # in the file, counting the header and blank lines
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
    try:
        rows = numbered_rows(text)
    except UnclosedQuote as unclosed:
        raise RosterError([f"{unclosed}; check the quotes on that line."]) from None
    if rows and [cell.strip().lower() for cell in rows[0][1][:2]] == ["username", "email"]:
        rows = rows[1:]
    if not rows:
        raise RosterError(["The roster is empty: give one 'username,email' line per student."])
    if len(rows) > _MAX_LINES:
        raise RosterError(
            [f"The roster has {len(rows)} students; import at most {_MAX_LINES} at once."]
        )
    entries, problems = [], []
    first_seen: dict[str, int] = {}
    for line, row in rows:
        problem = _row_problem(row)
        username = row[0].strip() if row else ""
        if problem is None and username in first_seen:
            problem = f"{username} appears twice (first on line {first_seen[username]})."
        if problem is not None:
            problems.append(f"Line {line}{f' ({username})' if len(row) == 2 else ''}: {problem}")
            continue
        first_seen[username] = line
        entries.append(RosterEntry(line=line, username=username, email=row[1].strip()))
    if problems:
        raise RosterError(problems)
    return entries


def _row_problem(row: list[str]) -> str | None:
    if len(row) == 1 and ";" in row[0]:
        return "expected 'username,email': separate them with a comma, not a semicolon."
    if len(row) != 2:
        return f"expected 'username,email', got {len(row)} field(s)."
    username, email = row[0].strip(), row[1].strip()
    fields = get_user_model()._meta
    try:
        UnicodeUsernameValidator()(username)
        validate_email(email)
    except ValidationError as error:
        return " ".join(error.messages)
    for name, value in (("username", username), ("email", email)):
        limit = getattr(fields.get_field(name), "max_length", None)
        if limit is not None and len(value) > limit:
            return f"the {name} has {len(value)} characters; at most {limit} are allowed."
    return None


@transaction.atomic
def roster_import(*, challenge: Challenge, entries: list[RosterEntry]) -> list[RosterAccount]:
    """Create the missing accounts and enrol everyone in the challenge."""
    users = get_user_model()
    existing = {
        user.username: user
        for user in users.objects.filter(username__in=[entry.username for entry in entries])
    }
    staff = [
        f"Line {entry.line} ({entry.username}): a staff account; teachers are not "
        "enrolled as students. Remove the line."
        for entry in entries
        if entry.username in existing and existing[entry.username].is_staff
    ]
    if staff:
        raise RosterError(staff)
    accounts = []
    for entry in entries:
        user = existing.get(entry.username)
        password = None
        if user is None:
            password = _handout_password()
            user = users.objects.create_user(
                username=entry.username, email=entry.email, password=password
            )
        participant_enroll(challenge=challenge, user=user)
        accounts.append(RosterAccount(entry.username, entry.email, password))
    return accounts


def _handout_password() -> str:
    return "".join(secrets.choice(_HANDOUT_CHARACTERS) for _ in range(_HANDOUT_LENGTH))


def roster_accounts_download(accounts: list[RosterAccount]) -> str | None:
    """The new accounts as a CSV in a `data:` URL: the browser saves it from the page
    itself, so the passwords exist on the server only while this response is built."""
    new = [account for account in accounts if account.password is not None]
    if not new:
        return None
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["username", "email", "password"])
    writer.writerows(
        [spreadsheet_text(account.username), spreadsheet_text(account.email), account.password]
        for account in new
    )
    encoded = base64.b64encode(buffer.getvalue().encode()).decode()
    return f"data:text/csv;charset=utf-8;base64,{encoded}"
