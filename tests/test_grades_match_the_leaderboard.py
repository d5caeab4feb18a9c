"""The grades export matches the leaderboard row for row: the same students in the
same order with the same rank, submission, scores, CPU and memory, in CSV and in
JSON, before and after the close; enrolled students the leaderboard has no row for
come after, unranked."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from challenges.models import Challenge
from judging.leaderboard import leaderboard
from tests.grading import a_class
from tests.submissions import published_challenge

pytestmark = pytest.mark.django_db
COMPARED = ("participant", "rank", "submission_id", "public_score", "private_score")
MEASURED = ("cpu_seconds", "peak_memory_mb")


def _challenge(teacher: object, closed: bool) -> Challenge:
    now = timezone.now()
    opens_at = now - timedelta(days=20)
    closes_at = now - timedelta(days=1) if closed else now + timedelta(days=1)
    return published_challenge(owner=teacher, opens_at=opens_at, closes_at=closes_at)


def _number(cell: str) -> Any:
    return None if cell == "" else float(cell)


def _csv_rows(client: Client, slug: str) -> list[dict[str, Any]]:
    response = client.get(f"/api/challenges/{slug}/grades/?format=csv")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    return [
        {
            "participant": row["participant"],
            **{key: _number(row[key]) for key in (*COMPARED[1:], *MEASURED)},
            "final": row["final"],
        }
        for row in rows
    ]


@pytest.mark.parametrize("closed", [False, True], ids=["open", "closed"])
def test_csv_and_json_rows_are_the_leaderboards_rows(
    teacher: object, teacher_client: Client, closed: bool
) -> None:
    challenge = _challenge(teacher, closed)
    a_class(challenge)
    board = leaderboard(challenge)
    expected = [{key: getattr(row, key) for key in (*COMPARED, *MEASURED)} for row in board.rows]

    body = teacher_client.get(f"/api/challenges/{challenge.slug}/grades/?format=json").json()
    from_csv = _csv_rows(teacher_client, challenge.slug)

    assert board.final is closed
    assert body["final"] is closed
    ranked = len(board.rows)
    as_json = [{key: row[key] for key in (*COMPARED, *MEASURED)} for row in body["rows"]]
    assert as_json[:ranked] == expected
    assert [{k: v for k, v in row.items() if k != "final"} for row in from_csv[:ranked]] == [
        {**row, "rank": None if row["rank"] is None else float(row["rank"])} for row in expected
    ]
    # The one enrolled student with no leaderboard row comes last, unranked.
    assert [row["participant"] for row in body["rows"][ranked:]] == ["idle"]
    assert body["rows"][ranked]["rank"] is None
    assert {row["final"] for row in from_csv} == {"true" if closed else "false"}
