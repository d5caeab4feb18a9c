"""The operations page counts the last day's failures by kind, the students'
errors apart from the operational failures an operator has to look at."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from dispatch.models import Transaction, TransactionState
from judging.models import SubmissionState
from tests.factories import SubmissionFactory
from tests.test_transaction_lifecycle import published_transaction

pytestmark = pytest.mark.django_db


def table(html: str, table_id: str) -> str:
    return html.split(f'id="{table_id}"')[1].split("</table>")[0]


def test_students_errors_are_counted_apart_from_operational_failures(admin_client: Client) -> None:
    now = timezone.now()
    for kind in ("student_error", "student_error", "memory", "sandbox"):
        SubmissionFactory(state=SubmissionState.FAILED, failure_kind=kind, finished_at=now)
    tx = published_transaction()
    Transaction.objects.filter(id=tx.id).update(
        state=TransactionState.FAILED, failure_kind="lost", finished_at=now
    )

    html = admin_client.get("/admin/operations/").content.decode()

    students, operations = table(html, "failures-student"), table(html, "failures-operations")
    assert '<tr class="kind-student_error">' in students
    assert "<td>2</td><td>0</td><td>0</td><td>2</td>" in students.split("kind-student_error")[1]
    assert "kind-memory" in students
    assert "kind-sandbox" not in students
    assert "kind-sandbox" in operations
    assert "<td>0</td><td>1</td><td>0</td><td>1</td>" in operations.split("kind-lost")[1]
    assert "kind-student_error" not in operations
