"""Whether students may download their releases is the teacher's to say, off by
default: a box in the admin's release plan, a field of the API's create; the
data section and its download are in the API's schema."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from challenges.models import Challenge
from tests.admin_forms import ADD_URL, post_add_challenge
from tests.test_api_challenges import challenge_fields, token_client

pytestmark = pytest.mark.django_db


def test_the_admin_offers_the_box_and_saves_it(teacher_client: Client) -> None:
    page = teacher_client.get(ADD_URL).content.decode()
    assert 'name="release_plan-0-release_downloads"' in page
    assert "students may download their releases" in page.lower()

    response = post_add_challenge(teacher_client, slug="iris-downloads", release_downloads="on")

    assert response.status_code == 302
    assert Challenge.objects.get(slug="iris-downloads").release_plan.release_downloads is True


def test_the_api_creates_a_challenge_with_downloads_on_or_off_by_default(teacher: Any) -> None:
    client = token_client(teacher)

    on = client.post(
        "/api/challenges/", challenge_fields(release_downloads="true"), format="multipart"
    )
    off = client.post("/api/challenges/", challenge_fields(slug="iris-default"), format="multipart")

    assert on.status_code == 201, on.json()
    assert on.json()["release_downloads"] is True
    assert Challenge.objects.get(slug="iris-api").release_plan.release_downloads is True
    assert off.status_code == 201, off.json()
    assert Challenge.objects.get(slug="iris-default").release_plan.release_downloads is False


def test_the_schema_documents_the_data_section_and_the_download(teacher_client: Client) -> None:
    schema = teacher_client.get("/api/schema/?format=json").json()

    data = schema["paths"]["/api/challenges/{slug}/data/"]["get"]["responses"]["200"]
    assert data["content"]["application/json"]["schema"]["$ref"].endswith("/DataSection")
    section = schema["components"]["schemas"]["DataSection"]["properties"]
    assert {"destinations", "releases", "next_release_at"} <= set(section)
    release = schema["components"]["schemas"]["DeliveredRelease"]["properties"]
    assert {"sequence", "rows", "delivered_at", "bytes", "sha256", "download_url"} <= set(release)
    download = schema["paths"]["/api/challenges/{slug}/releases/{sequence}/download/"]["get"]
    assert "application/octet-stream" in download["responses"]["200"]["content"]
