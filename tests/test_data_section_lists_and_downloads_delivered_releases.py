"""A student's data section: a release really executed to their own folder is
listed on the challenge page and in the API with the sha256 of the file on disk,
downloads byte for byte where the teacher allows it, and is nobody else's to
download; the next release's time makes the section poll itself. A destination's
secrets never reach the student."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from django.test import Client
from django.utils import timezone
from django.utils.html import escape
from rest_framework.test import APIClient

from challenges.models import Participant
from challenges.services import challenge_publish, participant_enroll
from dispatch.models import Destination, Transaction, TransactionState
from foundation.live_fragments import POLL_TRIGGER
from tests.delivered_releases import per_student_challenge, release_due_to
from tests.factories import ChallengeFactory, StudentFactory

pytestmark = pytest.mark.django_db


def logged_in(participant: Participant) -> tuple[Client, APIClient]:
    page, api = Client(), APIClient()
    page.force_login(participant.user)
    api.force_authenticate(participant.user)
    return page, api


def test_a_delivered_release_is_listed_and_downloads_exactly_as_delivered(
    tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    challenge = per_student_challenge(tmp_path / "class", release_downloads=True)
    ada, _ = participant_enroll(challenge=challenge, user=StudentFactory(username="ada"))
    grace, _ = participant_enroll(challenge=challenge, user=StudentFactory(username="grace"))
    challenge_publish(challenge=challenge)
    release_due_to("ada", django_capture_on_commit_callbacks)

    delivered = tmp_path / "class" / challenge.slug / "ada" / "release-001.parquet"
    on_disk = delivered.read_bytes()
    sha256 = hashlib.sha256(on_disk).hexdigest()
    page, api = logged_in(ada)
    slug = challenge.slug

    html = page.get(f"/challenges/{slug}/").content.decode()
    assert sha256 in html
    assert str(tmp_path / "class" / slug / "ada") in html  # where it arrives: her folder
    assert f'href="/challenges/{slug}/releases/1/download/"' in html
    # Release 2 is still due: the section polls.
    assert f'hx-trigger="{escape(POLL_TRIGGER)}"' in html

    data = api.get(f"/api/challenges/{slug}/data/").json()
    assert data["destinations"] == [
        {
            "kind": "local",
            "address": str(tmp_path / "class" / slug / "ada"),
            "fetch_command": None,
            "credentials": None,
        }
    ]
    [release] = data["releases"]
    assert release["sequence"] == 1
    assert release["rows"] == len(pd.read_parquet(delivered)) > 0
    assert (release["sha256"], release["bytes"]) == (sha256, len(on_disk))
    assert release["download_url"].endswith(f"/api/challenges/{slug}/releases/1/download/")
    assert data["next_release_at"] is not None

    from_page = page.get(f"/challenges/{slug}/releases/1/download/")
    assert from_page.content == on_disk
    from_api = api.get(
        f"/api/challenges/{slug}/releases/1/download/", HTTP_ACCEPT="application/octet-stream"
    )
    assert from_api.status_code == 200
    assert from_api.content == on_disk
    assert from_api["ETag"] == f'"{sha256}"'
    # Release 2 is not due yet: nothing to download.
    assert api.get(f"/api/challenges/{slug}/releases/2/download/").status_code == 404

    # Grace's own release 1 is still on its way: Ada's is not hers to download.
    grace_page, grace_api = logged_in(grace)
    assert grace_page.get(f"/challenges/{slug}/releases/1/download/").status_code == 404
    assert grace_api.get(f"/api/challenges/{slug}/releases/1/download/").status_code == 404
    assert grace_api.get(f"/api/challenges/{slug}/data/").json()["releases"] == []
    assert sha256 not in grace_page.get(f"/challenges/{slug}/").content.decode()

    # Downloads off: no link, no URL, and the download itself refused.
    challenge.release_plan.release_downloads = False
    challenge.release_plan.save()
    assert "/releases/1/download/" not in page.get(f"/challenges/{slug}/data/").content.decode()
    assert api.get(f"/api/challenges/{slug}/data/").json()["releases"][0]["download_url"] is None
    assert page.get(f"/challenges/{slug}/releases/1/download/").status_code == 404
    assert api.get(f"/api/challenges/{slug}/releases/1/download/").status_code == 404


def test_the_section_stops_polling_once_every_release_is_delivered(
    tmp_path: Path, django_capture_on_commit_callbacks: Any
) -> None:
    challenge = per_student_challenge(tmp_path / "class")
    ada, _ = participant_enroll(challenge=challenge, user=StudentFactory(username="ada"))
    challenge_publish(challenge=challenge)
    Transaction.objects.filter(release__sequence=2).update(next_attempt_at=timezone.now())
    release_due_to("ada", django_capture_on_commit_callbacks)

    assert set(Transaction.objects.values_list("state", flat=True)) == {TransactionState.DONE}
    page, api = logged_in(ada)
    fragment = page.get(f"/challenges/{challenge.slug}/data/").content.decode()
    assert "hx-trigger" not in fragment
    assert 'id="data-next-release"' not in fragment
    data = api.get(f"/api/challenges/{challenge.slug}/data/").json()
    assert [release["sequence"] for release in data["releases"]] == [1, 2]
    assert data["next_release_at"] is None
    assert all(release["download_url"] is None for release in data["releases"])


def test_a_students_view_of_remote_destinations_holds_no_secret() -> None:
    challenge = ChallengeFactory()
    s3 = Destination.objects.create(
        owner=challenge.owner,
        name="bucket",
        type="s3",
        path="course-data/2027",
        options={
            "provider": "Other",
            "endpoint": "http://s3.example.org:9000",
            "access_key_id": "TEACHERS-KEY-ID",
            "force_path_style": "true",
        },
        secret_options={"secret_access_key": "Sup3r-S3cret-Key"},
    )
    sftp = Destination.objects.create(
        owner=challenge.owner,
        name="files",
        type="sftp",
        path="upload",
        options={"host": "files.example.org", "user": "class", "port": "2222"},
        secret_options={"pass": "obscured-Pa55word"},
    )
    webdav = Destination.objects.create(
        owner=challenge.owner,
        name="dav",
        type="webdav",
        options={"url": "https://class:Url-Pa55@dav.example.org:8443/remote.php", "user": "class"},
    )
    challenge.release_plan.destinations.set([s3, sftp, webdav])
    challenge_publish(challenge=challenge)
    ada, _ = participant_enroll(challenge=challenge, user=StudentFactory(username="ada"))
    page, api = logged_in(ada)

    html = page.get(f"/challenges/{challenge.slug}/").content.decode()
    answer = api.get(f"/api/challenges/{challenge.slug}/data/")

    for secret in ("Sup3r-S3cret-Key", "obscured-Pa55word", "TEACHERS-KEY-ID", "Url-Pa55"):
        assert secret not in html
        assert secret not in answer.content.decode()
    shown = {row["kind"]: row for row in answer.json()["destinations"]}
    slug = challenge.slug
    assert shown["s3"]["fetch_command"] == (
        'rclone copy \':s3,provider=Other,endpoint="http://s3.example.org:9000",'
        f"force_path_style=true:course-data/2027/{slug}' {slug}"
    )
    assert shown["sftp"]["address"] == f"sftp://class@files.example.org:2222/upload/{slug}"
    assert "--sftp-pass" in shown["sftp"]["credentials"]
    assert shown["webdav"]["address"] == f"https://dav.example.org:8443/remote.php/{slug}"
    assert "rclone copy" in html
    assert "--s3-secret-access-key" in html
