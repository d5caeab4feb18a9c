"""Upgrading a database with failures recorded before kinds existed: each failed
submission and release gets the kind its reason tells (worker_wing/failure_kinds.py),
a cancelled one `cancelled`, an unreadable one `infrastructure`; a scored one none."""

from __future__ import annotations

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from dispatch.models import Transaction, TransactionState
from judging.models import Submission, SubmissionState
from tests.factories import SubmissionFactory
from tests.test_transaction_lifecycle import published_transaction

BEFORE_KINDS = [("judging", "0005_judgingrules"), ("dispatch", "0003_releaseplan")]


@pytest.mark.django_db(transaction=True)
def test_rows_failed_before_kinds_get_the_kind_their_reason_tells() -> None:
    reasons = {
        "cpu": "CPU time limit of 60 s exceeded (during fit on fold 0)",
        "student_error": "fit on fold 0 raised KeyError: 'age' (see stderr)",
        "lost": "the judge worker stopped answering (gave up after 3 runs)",
    }
    failed = {
        kind: SubmissionFactory(state=SubmissionState.FAILED, reason=reason)
        for kind, reason in reasons.items()
    }
    cancelled = SubmissionFactory(state=SubmissionState.CANCELLED, reason="Cancelled by x.")
    scored = SubmissionFactory(state=SubmissionState.SCORED)
    release = published_transaction()
    Transaction.objects.filter(id=release.id).update(
        state=TransactionState.FAILED, error="HTTP 403: the key was refused"
    )
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()

    MigrationExecutor(connection).migrate(BEFORE_KINDS)
    MigrationExecutor(connection).migrate(latest)

    kinds = dict(Submission.objects.values_list("id", "failure_kind"))
    assert {kind: kinds[row.pk] for kind, row in failed.items()} == {k: k for k in reasons}
    assert (kinds[cancelled.pk], kinds[scored.pk]) == ("cancelled", "")
    assert Transaction.objects.get(id=release.id).failure_kind == "infrastructure"
