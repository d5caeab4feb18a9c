"""Guessing passwords on the login page (and the admin's): past the configured
number of failures the page answers 429 with a message that says when to try
again, and the right password does not sign in during the lockout."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from tests.factories import StudentFactory, TeacherFactory

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def small_limit(settings: Any) -> None:
    settings.AXES_FAILURE_LIMIT = 3


def test_the_login_page_locks_out_and_says_when_to_come_back() -> None:
    StudentFactory(username="ada")
    client = Client()
    statuses = [
        client.post("/accounts/login/", {"username": "ada", "password": f"guess-{n}"}).status_code
        for n in range(4)
    ]

    right = client.post("/accounts/login/", {"username": "ada", "password": PASSWORD})

    assert statuses == [200, 200, 429, 429]
    assert right.status_code == 429
    assert right["Retry-After"] == str(15 * 60)
    page = right.content.decode()
    assert "Too many failed sign-ins" in page
    assert "the right password too" in page
    assert '<form method="post">' in page  # the form is there for later
    assert "_auth_user_id" not in client.session


def test_the_admin_login_counts_against_the_same_account() -> None:
    TeacherFactory(username="turing")
    client = Client()
    for n in range(3):
        client.post("/admin/login/", {"username": "turing", "password": f"guess-{n}"})

    right = client.post("/accounts/login/", {"username": "turing", "password": PASSWORD})

    assert right.status_code == 429
    assert "_auth_user_id" not in client.session
