"""The release plan on a draft challenge's admin page shows what each release would
hold, from the saved challenge: its number, time, rows and class counts, with a
warning for a release that would lack a class (iris, sorted by species, released in
the file's order); shuffled, every release holds every species; once published, the
order is fixed and the page points to the planned releases."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from django.urls import reverse

from challenges.models import Challenge
from tests.factories import ChallengeFactory
from tests.submissions import published_challenge

pytestmark = pytest.mark.django_db
FIRST = datetime.fromisoformat("2031-03-02T09:00:00+00:00")


def _draft(owner: Any, **fields: Any) -> Challenge:
    return ChallengeFactory(
        owner=owner,
        release_proportions="3",
        first_release_at=FIRST,
        release_interval_seconds=86400,
        **fields,
    )


def _page(client: Client, challenge: Challenge) -> str:
    response = client.get(reverse("admin:challenges_challenge_change", args=[challenge.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_files_order_shows_releases_of_one_species_and_warns(
    teacher: Any, teacher_client: Client
) -> None:
    html = _page(teacher_client, _draft(teacher, release_order="file"))

    # 105 training rows, 35 of each species, in the file's order: one species a release.
    assert "<th>setosa</th><th>versicolor</th><th>virginica</th>" in html
    assert (
        "<tr><td>1</td><td>2031-03-02 09:00 UTC</td><td>35</td><td>35</td><td>0</td><td>0</td>"
        in html
    )
    assert (
        "<tr><td>3</td><td>2031-03-04 09:00 UTC</td><td>35</td><td>0</td><td>0</td><td>35</td>"
        in html
    )
    assert "Release 1 would hold no versicolor, no virginica." in html
    assert "Release 2 would hold no setosa, no virginica." in html


def test_the_shuffled_order_shows_every_species_in_every_release(
    teacher: Any, teacher_client: Client
) -> None:
    html = _page(teacher_client, _draft(teacher, release_order="shuffled"))

    for number, date in ((1, "02"), (2, "03"), (3, "04")):
        row = f"<tr><td>{number}</td><td>2031-03-{date} 09:00 UTC</td><td>35</td>"
        cells = html.split(row, 1)[1].split("</tr>", 1)[0]
        assert sorted(cells.replace("<td>", " ").replace("</td>", " ").split()) == [
            "11",
            "12",
            "12",
        ]
    assert "would hold no" not in html
    assert "Computed from the saved challenge" in html


def test_a_plan_that_cannot_be_cut_says_what_to_fix(teacher: Any, teacher_client: Client) -> None:
    challenge = _draft(teacher, release_order="shuffled")
    challenge.release_plan.release_proportions = "200"
    challenge.release_plan.save()

    html = _page(teacher_client, challenge)

    assert "No preview: 200 releases of 105 training rows would leave a release empty" in html


def test_a_lost_dataset_file_says_to_upload_it_again(teacher: Any, teacher_client: Client) -> None:
    challenge = _draft(teacher)
    Path(challenge.dataset.path).unlink()

    html = _page(teacher_client, challenge)

    assert "No preview: the stored dataset cannot be read; upload it again." in html


def test_a_published_challenge_shows_its_order_fixed(teacher: Any, teacher_client: Client) -> None:
    challenge = published_challenge(owner=teacher, release_order="shuffled")

    html = _page(teacher_client, challenge)

    assert 'name="release_order"' not in html
    assert '<div class="readonly">shuffled, the classes mixed in every release</div>' in html
    assert "Published: the Releases page shows the planned releases." in html
