"""The admin's submissions list counts its rows only ten pages past the one shown
(foundation/admin_lists.py): a longer list says "more than N", and following its
last page link, then again, still reaches the last page."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from judging.models import Submission, SubmissionState
from tests.submissions import participants, published_challenge

pytestmark = pytest.mark.django_db


def test_a_long_list_says_more_than_it_counted_and_its_links_reach_the_last_page(
    teacher: object, teacher_client: Client
) -> None:
    challenge = published_challenge(owner=teacher)
    people = participants(challenge, 3)
    Submission.objects.bulk_create(
        Submission(
            challenge=challenge,
            participant=people[n % 3],
            code_sha256="0" * 64,
            code_bytes=100,
            state=SubmissionState.FAILED,
        )
        for n in range(700)
    )
    newest_first = list(
        Submission.objects.order_by("-created_at", "-id").values_list("id", flat=True)
    )
    url = reverse("admin:judging_submission_changelist")

    first = teacher_client.get(url)
    assert "more than 550 submissions" in first.content.decode()
    assert "Select all matching submissions (more than 550)" in first.content.decode()

    # A teacher follows the furthest page link shown until the count is whole.
    page, visited = first, [1]
    while "more than" in page.content.decode():
        furthest = max(int(n) for n in re.findall(r'href="\?p=(\d+)"', page.content.decode()))
        page = teacher_client.get(url, {"p": furthest})
        visited.append(furthest)
    last = max(int(n) for n in re.findall(r'href="\?p=(\d+)"', page.content.decode()))
    end = teacher_client.get(url, {"p": last})

    assert visited == [1, 12]
    assert "700 submissions" in page.content.decode()
    assert last == 14
    assert [row.pk for row in end.context["cl"].result_list] == newest_first[650:]


def test_a_list_within_reach_is_counted_exactly(teacher: object, teacher_client: Client) -> None:
    challenge = published_challenge(owner=teacher)
    people = participants(challenge, 2)
    Submission.objects.bulk_create(
        Submission(
            challenge=challenge,
            participant=people[n % 2],
            code_sha256="0" * 64,
            code_bytes=100,
        )
        for n in range(120)
    )

    page = teacher_client.get(reverse("admin:judging_submission_changelist"))

    assert page.context["cl"].paginator.count_is_exact
    assert "120 submissions" in page.content.decode()
    assert "more than" not in page.content.decode()
