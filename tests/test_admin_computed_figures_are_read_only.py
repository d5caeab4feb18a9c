"""Every figure the platform computes (scores, costs, contributivity, states,
attempts, digests, system times) is read-only in the admin: a teacher who posts a
changed figure changes nothing, and no admin that edits a model offers one as an
input (foundation/admin_helpers.py, TeacherEditsOnlyAdmin)."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib import admin
from django.test import Client, RequestFactory
from django.urls import reverse

from challenges.services import challenge_publish
from dispatch.models import Transaction
from judging.models import SubmissionState
from probing.services import endpoint_register
from tests.computed_figures import FIGURES
from tests.factories import (
    ChallengeFactory,
    DestinationFactory,
    ParticipantFactory,
    SubmissionFactory,
)
from tests.submissions import participants, published_challenge

pytestmark = pytest.mark.django_db


def scored_submission(teacher: Any) -> Any:
    participant = ParticipantFactory(challenge=published_challenge(owner=teacher))
    return SubmissionFactory(
        participant=participant,
        state=SubmissionState.SCORED,
        public_score=0.9,
        cpu_seconds=1.5,
        contributivity=12.5,
    )


def test_posting_a_changed_contributivity_or_score_changes_nothing(
    teacher: Any, teacher_client: Client
) -> None:
    submission = scored_submission(teacher)
    page = reverse("admin:judging_submission_change", args=[submission.pk])

    response = teacher_client.post(
        page, {"contributivity": "95", "public_score": "1.0", "cpu_seconds": "0"}
    )

    assert response.status_code == 403
    submission.refresh_from_db()
    assert (submission.contributivity, submission.public_score, submission.cpu_seconds) == (
        12.5,
        0.9,
        1.5,
    )


def test_the_submission_page_shows_figures_as_text_not_inputs(
    teacher: Any, teacher_client: Client
) -> None:
    submission = scored_submission(teacher)

    html = teacher_client.get(
        reverse("admin:judging_submission_change", args=[submission.pk])
    ).content.decode()

    assert 'name="contributivity"' not in html
    assert 'name="public_score"' not in html
    assert 'name="_save"' not in html
    assert "12.5" in html


def test_a_transaction_is_view_only(teacher: Any, teacher_client: Client) -> None:
    challenge = ChallengeFactory(owner=teacher)
    challenge.release_plan.destinations.set([DestinationFactory(owner=teacher)])
    challenge_publish(challenge=challenge)
    (student,) = participants(challenge, 1)
    transaction = Transaction.objects.get(release__challenge=challenge)

    response = teacher_client.post(
        reverse("admin:dispatch_transaction_change", args=[transaction.pk]),
        {"participant": student.pk, "bytes": "1", "state": "done", "attempts": "0"},
    )

    assert response.status_code == 403
    transaction.refresh_from_db()
    assert (transaction.participant, transaction.bytes, transaction.state) == (
        None,
        None,
        "planned",
    )


def test_an_endpoints_page_saves_only_whether_it_is_probed(
    teacher: Any, teacher_client: Client
) -> None:
    (student,) = participants(published_challenge(owner=teacher), 1)
    endpoint, _ = endpoint_register(
        participant=student, url="https://model.example.org", protocol="json"
    )
    page = reverse("admin:probing_endpoint_change", args=[endpoint.pk])

    teacher_client.post(
        page, {"url": "https://elsewhere.example.org", "next_probe_at_0": "2030-01-01"}
    )

    endpoint.refresh_from_db()
    assert endpoint.active is False  # an unticked box: the one field a teacher sets
    assert endpoint.url == "https://model.example.org"


def test_no_admin_that_edits_offers_a_computed_figure(teacher: Any) -> None:
    request = RequestFactory().get("/admin/")
    request.user = teacher
    offered = {}
    for model, model_admin in admin.site._registry.items():
        if not model_admin.has_change_permission(request):
            continue  # view-only: Django renders every field as text
        form = model_admin.get_form(request, None)
        offered[model._meta.label] = set(form.base_fields) & FIGURES

    assert "probing.Endpoint" in offered  # the walk reached the admins that edit
    assert {label: names for label, names in offered.items() if names} == {}
