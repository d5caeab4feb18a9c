"""The challenge side of the REST API, as teachers' scripts and students' code call
it (../shared/API.md): tokens, the error shape, creating a challenge with the
admin's checks, destinations with write-only secrets, publishing, releases, joining."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from rest_framework.test import APIClient

from challenges.models import Challenge, Participant
from dispatch.models import Destination
from tests.factories import ChallengeFactory, StudentFactory, TeacherFactory, iris_csv
from tests.submissions import published_challenge

pytestmark = pytest.mark.django_db
PASSWORD = "correct horse battery staple"


def token_client(user: Any) -> APIClient:
    """A client that authenticates the way a script does: a token from the API."""
    anonymous = APIClient()
    response = anonymous.post(
        "/api/auth/token/", {"username": user.username, "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200, response.json()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {response.json()['token']}")
    return client


def challenge_fields(**overrides: Any) -> dict[str, Any]:
    """The fields API.md lists, as a teacher's script would send them."""
    opens = timezone.now()
    fields: dict[str, Any] = {
        "name": "Iris by API",
        "slug": "iris-api",
        "description": "Three species.",
        "target_column": "species",
        "id_column": "",
        "task_type": "classification",
        "metric": "accuracy",
        "test_fraction": "0.3",
        "private_fraction": "0.5",
        "opens_at": opens.isoformat(),
        "closes_at": (opens + timedelta(days=30)).isoformat(),
        "cpu_seconds_limit": "60",
        "memory_mb_limit": "512",
        "wall_seconds_limit": "120",
        "submissions_per_day": "5",
        "release_proportions": "50,50",
        "release_interval_seconds": "3600",
        "release_format": "csv",
        "dataset": SimpleUploadedFile("iris.csv", iris_csv(), "text/csv"),
    }
    fields.update(overrides)
    return fields


def test_a_wrong_password_gets_the_error_shape() -> None:
    StudentFactory(username="ada")
    response = APIClient().post(
        "/api/auth/token/", {"username": "ada", "password": "nope"}, format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert "Unable to log in" in body["detail"]
    assert body["errors"]["non_field_errors"]


def test_no_token_is_refused_with_the_error_shape() -> None:
    response = APIClient().get("/api/challenges/")
    assert response.status_code in (401, 403)
    assert response.json() == {
        "detail": "Authentication credentials were not provided.",
        "errors": {},
    }


def test_a_teacher_creates_a_challenge_with_destinations_by_name(
    tmp_path: Any, settings: Any
) -> None:
    settings.PPIPE_LOCAL_DESTINATION_ROOTS = [tmp_path]
    teacher = TeacherFactory()
    client = token_client(teacher)
    root = tmp_path / "releases"
    created = client.post(
        "/api/destinations/",
        {"name": "class-folder", "type": "local", "path": str(root)},
        format="json",
    )
    assert created.status_code == 201, created.json()

    response = client.post(
        "/api/challenges/",
        challenge_fields(
            destinations=["class-folder"],
            first_release_at=(timezone.now() + timedelta(hours=1)).isoformat(),
        ),
        format="multipart",
    )

    assert response.status_code == 201, response.json()
    assert response.json()["slug"] == "iris-api"
    challenge = Challenge.objects.get(slug="iris-api")
    assert challenge.owner == teacher
    assert challenge.dataset_rows == 150
    assert list(challenge.release_plan.destinations.values_list("name", flat=True)) == [
        "class-folder"
    ]
    # Left out by the script, so the model's defaults apply.
    assert challenge.judging_rules.cv_folds == 5


def test_a_bad_challenge_gets_the_admins_messages_and_saves_nothing() -> None:
    client = token_client(TeacherFactory())
    response = client.post(
        "/api/challenges/",
        challenge_fields(metric="r2", target_column="colour", destinations=["nowhere"]),
        format="multipart",
    )
    assert response.status_code == 400
    assert "nowhere" in response.json()["errors"]["destinations"][0]

    response = client.post(
        "/api/challenges/",
        challenge_fields(metric="r2", target_column="colour"),
        format="multipart",
    )
    body = response.json()
    assert response.status_code == 400
    assert "'r2' is a regression metric" in body["errors"]["metric"][0]
    assert "colour" in body["errors"]["target_column"][0]
    assert body["detail"].startswith("Please fix:")
    assert not Challenge.objects.exists()


def test_students_cannot_create_challenges_or_destinations() -> None:
    client = token_client(StudentFactory())
    response = client.post("/api/challenges/", challenge_fields(), format="multipart")
    assert response.status_code == 403
    assert "Teachers group" in response.json()["detail"]
    response = client.post("/api/destinations/", {"name": "x", "type": "local"}, format="json")
    assert response.status_code == 403
    assert not Challenge.objects.exists()


def test_destination_secrets_are_write_only(tmp_path: Any) -> None:
    client = token_client(TeacherFactory())
    response = client.post(
        "/api/destinations/",
        {
            "name": "bucket",
            "type": "s3",
            "path": "course/iris",
            "params": {
                "provider": "Minio",
                "access_key_id": "AKIAEXAMPLE",
                "secret_access_key": "very-secret-value",
            },
        },
        format="json",
    )
    assert response.status_code == 201, response.json()
    listed = client.get("/api/destinations/")
    assert "very-secret-value" not in listed.content.decode()
    assert "very-secret-value" not in response.content.decode()
    (row,) = listed.json()
    assert row["secret_params_set"] == ["secret_access_key"]
    assert row["params"]["provider"] == "Minio"
    stored = Destination.objects.get(name="bucket")
    assert stored.secret_options == {"secret_access_key": "very-secret-value"}


def test_a_bad_destination_names_what_to_fix() -> None:
    client = token_client(TeacherFactory())
    response = client.post(
        "/api/destinations/",
        {"name": "bad name!", "type": "s3", "params": {"--config": "/etc/passwd"}},
        format="json",
    )
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert "name" in errors
    assert "params" in errors
    assert not Destination.objects.exists()


def test_publish_then_releases_are_listed() -> None:
    teacher = TeacherFactory()
    challenge = ChallengeFactory(owner=teacher, release_proportions="50,50")
    client = token_client(teacher)

    response = client.post(f"/api/challenges/{challenge.slug}/publish/")
    assert response.status_code == 200, response.json()
    assert response.json()["status"] in ("open", "published")

    again = client.post(f"/api/challenges/{challenge.slug}/publish/")
    assert again.status_code == 400
    assert "already published" in again.json()["detail"]

    releases = client.get(f"/api/challenges/{challenge.slug}/releases/").json()
    assert [release["sequence"] for release in releases] == [1, 2]
    assert sum(release["rows"] for release in releases) == challenge.split.train_rows
    detail = client.get(f"/api/challenges/{challenge.slug}/").json()
    assert [release["rows"] for release in detail["releases"]] == [r["rows"] for r in releases]
    assert "join_code" not in detail


def test_only_its_teacher_publishes() -> None:
    challenge = ChallengeFactory()
    response = token_client(TeacherFactory()).post(f"/api/challenges/{challenge.slug}/publish/")
    assert response.status_code == 404
    challenge.refresh_from_db()
    assert not challenge.is_published


def test_a_student_joins_with_the_code_and_then_sees_the_challenge() -> None:
    challenge = published_challenge(join_code="owls-2026")
    other = published_challenge()
    student = StudentFactory()
    client = token_client(student)
    assert client.get("/api/challenges/").json() == []

    wrong = client.post(f"/api/challenges/{challenge.slug}/join/", {"code": "owls"}, format="json")
    assert wrong.status_code == 400
    assert "not the challenge's" in wrong.json()["errors"]["code"][0]
    assert not Participant.objects.filter(user=student).exists()

    joined = client.post(
        f"/api/challenges/{challenge.slug}/join/", {"code": "owls-2026"}, format="json"
    )
    assert joined.status_code == 201, joined.json()
    assert [row["slug"] for row in client.get("/api/challenges/").json()] == [challenge.slug]
    # A roster-only challenge cannot be joined, nor seen.
    refused = client.post(f"/api/challenges/{other.slug}/join/", {"code": "x"}, format="json")
    assert refused.status_code == 404
    assert client.get(f"/api/challenges/{other.slug}/").status_code == 404


def test_a_joinable_challenge_shows_its_description_but_not_its_results() -> None:
    challenge = published_challenge(join_code="owls-2026")
    client = token_client(StudentFactory())
    assert client.get(f"/api/challenges/{challenge.slug}/").status_code == 200
    for path in ("leaderboard/", "releases/"):
        assert client.get(f"/api/challenges/{challenge.slug}/{path}").status_code == 404
