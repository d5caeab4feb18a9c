"""JSON bodies past the parser's bounds: 100,000 levels of nesting (which makes
`json.loads` raise RecursionError) and malformed JSON are 400s that say what is
wrong, not 500s."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from tests.factories import StudentFactory
from tests.submissions import published_challenge
from tests.test_api_challenges import token_client

pytestmark = pytest.mark.django_db


def post_json(client: APIClient, path: str, body: bytes) -> Any:
    return client.post(path, body, content_type="application/json")


def test_json_nested_100000_deep_is_a_400_saying_so() -> None:
    challenge = published_challenge(join_code="owls-2026")
    client = token_client(StudentFactory())
    deep = b'{"code": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"

    response = post_json(client, f"/api/challenges/{challenge.slug}/join/", deep)

    assert response.status_code == 400
    detail = response.json()["detail"]
    assert "nested deeper than 32 levels" in detail


def test_the_token_endpoint_refuses_deep_json_too() -> None:
    deep = b"[" * 100_000 + b"]" * 100_000

    response = post_json(APIClient(), "/api/auth/token/", deep)

    assert response.status_code == 400
    assert "nested deeper" in response.json()["detail"]


def test_malformed_json_is_a_400_saying_where() -> None:
    client = token_client(StudentFactory())

    response = post_json(client, "/api/challenges/any/join/", b'{"code": "owls",')

    assert response.status_code == 400
    assert "not valid JSON" in response.json()["detail"]
