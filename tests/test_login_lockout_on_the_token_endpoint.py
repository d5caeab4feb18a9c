"""Guessing passwords through POST /api/auth/token/: after the configured number
of failures the account is locked out (429, `Retry-After`, the error shape), the
right password is refused too, and an address guessing many accounts is locked
out as well."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.factories import StudentFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def small_limit(settings: Any) -> None:
    settings.AXES_FAILURE_LIMIT = 3


def token(username: str, password: str, address: str = "192.0.2.10") -> Any:
    return APIClient(REMOTE_ADDR=address).post(
        "/api/auth/token/", {"username": username, "password": password}, format="json"
    )


def test_wrong_passwords_lock_the_account_and_the_right_one_is_refused() -> None:
    StudentFactory(username="ada")
    answers = [token("ada", f"guess-{n}", address=f"192.0.2.{n}").status_code for n in range(5)]

    assert answers[:2] == [400, 400]
    assert answers[2:] == [429, 429, 429]
    locked = token("ada", PASSWORD, address="198.51.100.7")
    assert locked.status_code == 429
    assert int(locked["Retry-After"]) == 15 * 60
    assert locked.json()["errors"] == {}
    assert "Too many failed sign-ins" in locked.json()["detail"]
    assert "the next is possible in 15 minutes" in locked.json()["detail"]
    assert "token" not in locked.json()


def test_one_address_guessing_many_accounts_is_locked_out() -> None:
    StudentFactory(username="grace")
    for n in range(3):
        token(f"nobody-{n}", "guess")

    assert token("grace", PASSWORD).status_code == 429
    assert token("grace", PASSWORD, address="192.0.2.99").status_code == 200
