"""The OpenAPI schema tells a student where they may meet a rate limit: every
operation of a rate-limited family documents its 429, with `Retry-After` and the
body's limit; operations without one do not claim it."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import StudentFactory
from tests.test_api_challenges import token_client

pytestmark = pytest.mark.django_db


@pytest.fixture
def paths() -> dict[str, Any]:
    schema = token_client(StudentFactory()).get("/api/schema/?format=json").json()
    return dict(schema["paths"])


@pytest.mark.parametrize(
    ("path", "method"),
    [
        ("/api/submissions/{submission_id}/", "get"),
        ("/api/submissions/{submission_id}/fork/", "post"),
        ("/api/challenges/{slug}/shared/", "get"),
        ("/api/challenges/{slug}/leaderboard/", "get"),
        ("/api/challenges/{slug}/releases/{sequence}/download/", "get"),
        ("/api/questions/{question_id}/answer/", "post"),
    ],
)
def test_a_limited_operation_documents_its_429(
    paths: dict[str, Any], path: str, method: str
) -> None:
    refused = paths[path][method]["responses"]["429"]

    assert "`Retry-After`" in refused["description"]
    body = refused["content"]["application/json"]["schema"]["$ref"]
    assert body.endswith("/RateLimited")


def test_an_unlimited_operation_does_not_claim_a_429(paths: dict[str, Any]) -> None:
    assert "429" not in paths["/api/challenges/{slug}/"]["get"]["responses"]
