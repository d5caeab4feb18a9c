"""The admin's submissions list renders 50 rows a page (its rows are nearly all of a
page's cost at 10,000 submissions), newest first, the rest on the next pages."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from judging.models import Submission, SubmissionState
from tests.factories import SubmissionFactory
from tests.submissions import participants, published_challenge

pytestmark = pytest.mark.django_db


def test_a_page_lists_the_newest_50_and_the_next_page_the_rest(
    teacher: object, teacher_client: Client
) -> None:
    challenge = published_challenge(owner=teacher)
    for participant in participants(challenge, 3):
        for _ in range(20):
            SubmissionFactory(participant=participant, state=SubmissionState.FAILED)
    newest_first = list(
        Submission.objects.order_by("-created_at", "-id").values_list("id", flat=True)
    )
    url = reverse("admin:judging_submission_changelist")

    first = teacher_client.get(url)
    second = teacher_client.get(url, {"p": 2})

    assert [row.pk for row in first.context["cl"].result_list] == newest_first[:50]
    assert [row.pk for row in second.context["cl"].result_list] == newest_first[50:]
    assert first.context["cl"].result_count == 60
