"""The REST API accepts no computed figure: a score, a cost, a state, a digest or a
system time sent with a write is ignored, never stored, and no request body in the
OpenAPI schema names one."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from challenges.models import Challenge
from judging.models import Submission
from probing.models import Endpoint
from teams.models import Team
from tests.computed_figures import FIGURES
from tests.factories import TeacherFactory, iris_csv
from tests.submissions import LOGISTIC_REGRESSION, participants, published_challenge
from tests.test_api_challenges import challenge_fields, token_client

pytestmark = pytest.mark.django_db
SYSTEM = {"public_score": "1.0", "cpu_seconds": "0", "contributivity": "95", "state": "scored"}


def test_a_created_challenge_keeps_the_figures_it_computes() -> None:
    teacher, other = TeacherFactory(), TeacherFactory()
    forged = {"dataset_sha256": "0" * 64, "dataset_rows": "1", "published_at": "2030-01-01T00:00Z"}

    response = token_client(teacher).post(
        "/api/challenges/", challenge_fields(**forged, owner=other.pk), format="multipart"
    )

    assert response.status_code == 201, response.json()
    challenge = Challenge.objects.get(slug="iris-api")
    assert challenge.dataset_sha256 == hashlib.sha256(iris_csv()).hexdigest()
    assert (challenge.dataset_rows, challenge.published_at, challenge.owner) == (150, None, teacher)


def test_a_submission_upload_ignores_scores_and_state() -> None:
    challenge = published_challenge()
    (ada,) = participants(challenge, 1)
    upload = SimpleUploadedFile("estimator.py", LOGISTIC_REGRESSION, "text/x-python")

    response = token_client(ada.user).post(
        f"/api/challenges/{challenge.slug}/submissions/", {"file": upload, **SYSTEM}
    )

    assert response.status_code == 201, response.json()
    submission = Submission.objects.get(pk=response.json()["id"])
    assert submission.state == "new"
    assert (submission.public_score, submission.cpu_seconds, submission.contributivity) == (
        None,
        None,
        None,
    )


def test_endpoints_and_teams_ignore_what_the_platform_sets() -> None:
    challenge = published_challenge(team_size=3)
    (ada,) = participants(challenge, 1)
    client = token_client(ada.user)

    client.post(
        f"/api/challenges/{challenge.slug}/endpoints/",
        {"url": "https://model.example.org", "protocol": "json", "active": False},
        format="json",
    )
    client.post(
        f"/api/challenges/{challenge.slug}/teams/",
        {"name": "owls", "join_code": "CHOSEN", "created_at": "2000-01-01T00:00Z"},
        format="json",
    )

    assert Endpoint.objects.get(participant=ada).active is True
    team = Team.objects.get(name="owls")
    assert team.join_code != "CHOSEN"
    assert team.created_at.year != 2000


def _request_properties(schema: dict[str, Any]) -> dict[str, set[str]]:
    components = schema["components"]["schemas"]
    found = {}
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            for content in operation.get("requestBody", {}).get("content", {}).values():
                body = content["schema"]
                if "$ref" in body:
                    body = components[body["$ref"].rsplit("/", 1)[-1]]
                found[f"{method.upper()} {path}"] = set(body.get("properties", {}))
    return found


def test_no_request_body_in_the_schema_names_a_figure() -> None:
    schema = token_client(TeacherFactory()).get("/api/schema/", {"format": "json"}).json()

    bodies = _request_properties(schema)

    assert "POST /api/challenges/{slug}/submissions/" in bodies
    assert {where: names & FIGURES for where, names in bodies.items() if names & FIGURES} == {}
