"""The admin's submissions list costs the same number of queries for 3 rows as for
30 (no query per row), and reads no submission's job or logs."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from challenges.models import Challenge
from judging.models import SubmissionState
from tests.factories import SubmissionFactory
from tests.submissions import participants, published_challenge

pytestmark = pytest.mark.django_db


def list_queries(client: Client, challenge: Challenge, rows: int) -> list[str]:
    for participant in participants(challenge, rows):
        SubmissionFactory(participant=participant, state=SubmissionState.SCORED, public_score=0.5)
    url = reverse("admin:judging_submission_changelist")
    with CaptureQueriesContext(connection) as queries:
        page = client.get(url, {"challenge": challenge.pk})
    assert len(page.context["cl"].result_list) == rows
    return [query["sql"] for query in queries.captured_queries]


def test_the_list_costs_the_same_queries_for_3_rows_as_for_30(
    teacher: object, teacher_client: Client
) -> None:
    few = list_queries(teacher_client, published_challenge(owner=teacher), 3)
    many = list_queries(teacher_client, published_challenge(owner=teacher), 30)

    assert len(many) == len(few)
    listing = next(sql for sql in many if 'FROM "judging_submission"' in sql and "ORDER BY" in sql)
    assert '"judging_submission"."job"' not in listing
    assert '"judging_submission"."stderr_tail"' not in listing
