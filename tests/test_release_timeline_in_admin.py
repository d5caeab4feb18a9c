"""A teacher follows releases in the admin: the timeline page lists each release
per destination with its state, bytes, duration and error, and the change list
counts transactions by state."""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from challenges.services import challenge_publish
from dispatch.models import Transaction, TransactionState
from tests.factories import ChallengeFactory, DestinationFactory


def _timeline_figure(page: str) -> dict[str, Any]:
    found = re.search(r'id="release-timeline"[^>]*data-chart="([^"]*)"', page)
    assert found, "no release timeline chart on the page"
    figure: dict[str, Any] = json.loads(html.unescape(found.group(1)))
    return figure


@pytest.mark.django_db
def test_the_timeline_shows_every_transaction_with_its_outcome(
    teacher_client: Client, teacher: object, tmp_path: Path
) -> None:
    challenge = ChallengeFactory(
        owner=teacher, first_release_at=timezone.now(), release_proportions="3"
    )
    challenge.release_plan.destinations.set(
        [DestinationFactory(owner=teacher, name="class-share", path=str(tmp_path))]
    )
    challenge_publish(challenge=challenge)
    first, second, _ = Transaction.objects.filter(release__challenge=challenge)
    Transaction.objects.filter(id=first.id).update(
        state=TransactionState.DONE, bytes=4321, duration_seconds=0.25
    )
    Transaction.objects.filter(id=second.id).update(
        state=TransactionState.FAILED, error="destination refused"
    )

    page = teacher_client.get(
        f"/admin/challenges/challenge/{challenge.pk}/releases/"
    ).content.decode()
    listing = teacher_client.get("/admin/challenges/challenge/").content.decode()

    assert page.count('class="tx-done"') == 1
    assert page.count('class="tx-failed"') == 1
    assert page.count('class="tx-planned"') == 1
    assert "4321" in page
    assert "destination refused" in page
    marks = {trace["name"]: (trace["y"], trace["text"]) for trace in _timeline_figure(page)["data"]}
    assert marks == {
        "Planned": (["class-share"], ["release 3"]),
        "Done": (["class-share"], ["release 1"]),
        "Failed": (["class-share"], ["release 2"]),
    }
    assert "1 planned · 1 done · 1 failed" in listing


@pytest.mark.django_db
def test_a_transaction_page_shows_its_job_without_secrets_and_its_timeline(
    teacher_client: Client, teacher: object
) -> None:
    challenge = ChallengeFactory(owner=teacher, first_release_at=timezone.now())
    bucket = DestinationFactory(
        owner=teacher, type="s3", path="b", secret_options={"secret_access_key": "KEY-42"}
    )
    challenge.release_plan.destinations.set([bucket])
    challenge_publish(challenge=challenge)
    tx = Transaction.objects.get(release__challenge=challenge)

    page = teacher_client.get(f"/admin/dispatch/transaction/{tx.pk}/change/").content.decode()

    assert "KEY-42" not in page
    assert "&quot;secret_access_key&quot;: &quot;***&quot;" in page
    assert tx.job["source"]["sha256"] in page
    assert "due " in page  # the planned event in the timeline
