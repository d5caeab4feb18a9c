"""A person switches kinds of mail on and off over the API (documented in the
schema) and on the preferences page, which every page's header links to."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from notifications.models import NotificationPreferences
from tests.factories import ChallengeFactory, StudentFactory

pytestmark = pytest.mark.django_db
URL = "/api/notifications/preferences/"
ALL_ON = {
    "endpoint_outages": True,
    "releases": True,
    "submission_results": True,
    "teacher_digest": True,
}


def test_the_api_shows_all_on_then_changes_only_the_switches_sent(client: Client) -> None:
    student = StudentFactory()
    client.force_login(student)

    assert client.get(URL).json() == ALL_ON
    changed = client.put(URL, {"releases": False}, content_type="application/json")
    again = client.patch(URL, {"endpoint_outages": False}, content_type="application/json")

    assert changed.status_code == again.status_code == 200
    assert again.json() == {**ALL_ON, "releases": False, "endpoint_outages": False}
    saved = NotificationPreferences.objects.get(user=student)
    assert (saved.releases, saved.endpoint_outages, saved.submission_results) == (
        False,
        False,
        True,
    )


def test_the_api_refuses_unknown_switches_and_strangers(client: Client) -> None:
    assert client.get(URL).status_code in (401, 403)
    client.force_login(StudentFactory())

    refused = client.put(URL, {"sms": True}, content_type="application/json")

    assert refused.status_code == 400
    assert "Not a switch" in refused.json()["errors"]["sms"][0]
    assert not NotificationPreferences.objects.exists()


def test_the_schema_documents_the_preferences_endpoint(client: Client) -> None:
    client.force_login(StudentFactory())

    schema = client.get("/api/schema/?format=json").json()

    operations = schema["paths"][URL]
    assert {"get", "put", "patch"} <= set(operations)
    assert "releases" in str(schema["components"]["schemas"])


def test_the_page_is_linked_from_the_header_and_saves_the_switches(client: Client) -> None:
    student = StudentFactory()
    client.force_login(student)

    home = client.get("/").content.decode()
    page = client.get("/notifications/").content.decode()
    saved = client.post("/notifications/", {"releases": "on", "endpoint_outages": "on"})

    assert 'href="/notifications/"' in home
    assert student.email in page
    assert "Daily digest" not in page  # only for teachers
    assert saved.status_code == 302
    preferences = NotificationPreferences.objects.get(user=student)
    assert (preferences.submission_results, preferences.releases) == (False, True)


def test_a_teacher_sees_the_digest_switch(client: Client, teacher: Any) -> None:
    ChallengeFactory(owner=teacher)
    client.force_login(teacher)

    assert "Daily digest (teachers)" in client.get("/notifications/").content.decode()
