"""A destination's secrets are write-only: the admin never renders them, and the
job JSON a teacher sees and the task arguments Flower shows have them redacted."""

from __future__ import annotations

import base64
import json
from datetime import timedelta
from typing import Any

import pytest
import redis
from django.test import Client
from django.utils import timezone

from dispatch.models import Destination
from dispatch.tasks import _send
from tests.admin_forms import section_form
from tests.factories import ChallengeFactory, DestinationFactory, TeacherFactory

ADD = "/admin/dispatch/destination/add/"


def add_destination(client: Client, **fields: str) -> object:
    data = {
        "name": "course-bucket",
        "type": "s3",
        "path": "course/2026",
        "options_text": "",
        "secrets_text": "",
    }
    data.update(fields)
    return client.post(ADD, data)


@pytest.mark.django_db
def test_a_secret_is_stored_but_never_shown_again(teacher_client: Client, teacher: object) -> None:
    add_destination(
        teacher_client,
        options_text="provider=Other\nendpoint=https://s3.example.org",
        secrets_text="secret_access_key=Sup3r-S3cret-Key",
    )
    destination = Destination.objects.get(name="course-bucket")

    change_page = teacher_client.get(
        f"/admin/dispatch/destination/{destination.pk}/change/"
    ).content.decode()
    list_page = teacher_client.get("/admin/dispatch/destination/").content.decode()

    assert destination.secret_options == {"secret_access_key": "Sup3r-S3cret-Key"}
    assert destination.owner == teacher
    assert "Sup3r-S3cret-Key" not in change_page + list_page
    assert "Stored now: secret_access_key" in change_page


@pytest.mark.django_db
def test_saving_without_secrets_keeps_them_and_an_empty_value_removes_one(
    teacher_client: Client,
) -> None:
    add_destination(teacher_client, secrets_text="secret_access_key=abc123\nsession_token=tok")
    destination = Destination.objects.get(name="course-bucket")
    change = f"/admin/dispatch/destination/{destination.pk}/change/"

    teacher_client.post(
        change, {"name": "course-bucket", "type": "s3", "path": "course/2027", "secrets_text": ""}
    )
    destination.refresh_from_db()
    assert destination.secret_options == {"secret_access_key": "abc123", "session_token": "tok"}

    teacher_client.post(
        change,
        {"name": "course-bucket", "type": "s3", "path": "x", "secrets_text": "session_token="},
    )
    destination.refresh_from_db()
    assert destination.secret_options == {"secret_access_key": "abc123"}


@pytest.mark.django_db
def test_sftp_passwords_are_stored_obscured_as_rclone_expects(teacher_client: Client) -> None:
    add_destination(teacher_client, type="sftp", path="upload", secrets_text="pass=plain-password")

    stored = Destination.objects.get(name="course-bucket").secret_options["pass"]

    assert stored != "plain-password"
    assert len(stored) > len("plain-password")


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"path": "$(touch x)/r"}, "character that is not allowed"),
        ({"path": "../etc"}, "may not contain"),
        ({"options_text": "Endpoint=http://x"}, "is not an rclone option name"),
        ({"options_text": "secret_access_key=abc"}, "put it under Secret options"),
        ({"options_text": "just text"}, "is not name=value"),
        ({"type": "gopher"}, "Select a valid choice"),
    ],
)
@pytest.mark.django_db
def test_bad_destination_settings_get_a_form_error(
    teacher_client: Client, fields: dict[str, str], message: str
) -> None:
    response = add_destination(teacher_client, **fields)

    assert response.status_code == 200  # type: ignore[attr-defined]
    assert message in response.content.decode()  # type: ignore[attr-defined]
    assert not Destination.objects.exists()


@pytest.mark.django_db
def test_teachers_see_only_their_own_destinations(teacher_client: Client, teacher: object) -> None:
    DestinationFactory(owner=teacher, name="mine")
    DestinationFactory(owner=TeacherFactory(), name="someone-elses")

    page = teacher_client.get("/admin/dispatch/destination/").content.decode()
    form = teacher_client.get(
        f"/admin/challenges/challenge/{ChallengeFactory(owner=teacher).pk}/change/"
    )

    assert "mine" in page
    assert "someone-elses" not in page
    choices = [
        str(choice[1])
        for choice in section_form(form, "release_plan").fields["destinations"].choices
    ]
    assert choices == ["mine (local)"]


def test_a_dispatch_message_shows_flower_no_secret_but_carries_it(settings: Any) -> None:
    """Flower and the worker logs show a task's `argsrepr`; the job inside the
    message keeps the secret the worker needs."""
    job = {
        "transaction_id": 1,
        "destination": {
            "path": "bucket/course",
            "remote": {"type": "s3", "options": {"secret_access_key": "s3cret-key", "region": "x"}},
        },
    }
    task_id = _send([job], timezone.now() + timedelta(minutes=5))  # type: ignore[list-item]

    broker = redis.Redis.from_url(settings.CELERY_BROKER_URL, decode_responses=True)
    queued = [str(raw) for raw in broker.lrange("dispatch", 0, -1)]
    (raw,) = [r for r in queued if json.loads(r)["headers"]["id"] == task_id]
    broker.lrem("dispatch", 1, raw)  # no worker should pick it up later
    message = json.loads(raw)

    assert "s3cret-key" not in message["headers"]["argsrepr"]
    assert "'region': 'x'" in message["headers"]["argsrepr"]
    assert b"s3cret-key" in base64.b64decode(message["body"])
