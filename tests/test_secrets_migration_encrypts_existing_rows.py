"""Upgrading a database whose secrets are in plain text: the migrations of
dispatch and probing encrypt every existing destination secret and endpoint auth
header in place, and the models read them back."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from dispatch.models import Destination
from probing.models import Endpoint
from tests.factories import DestinationFactory
from tests.submissions import participants, published_challenge

BEFORE_ENCRYPTION = [("dispatch", "0001_initial"), ("probing", "0003_probe_scheduled_at_index")]


def migrate(targets: list[tuple[str, str]]) -> None:
    MigrationExecutor(connection).migrate(targets)


@pytest.mark.django_db(transaction=True)
def test_the_migrations_encrypt_plaintext_secrets(teacher: Any) -> None:
    destination = DestinationFactory(owner=teacher, type="s3", path="b")
    (student,) = participants(published_challenge(owner=teacher), 1)
    endpoint = Endpoint.objects.create(
        challenge=student.challenge, participant=student, url="https://m.example.org",
        protocol="json",
    )  # fmt: skip
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes()

    migrate(BEFORE_ENCRYPTION)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE dispatch_destination SET secret_options = %s::jsonb WHERE id = %s",
                [json.dumps({"secret_access_key": "plain-s3cret"}), destination.pk],
            )
            cursor.execute(
                "UPDATE probing_endpoint SET auth_header = %s WHERE id = %s",
                ["X-Key: plain-s3cret", endpoint.pk],
            )
    finally:
        migrate(latest)

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT d.secret_options, e.auth_header FROM dispatch_destination d, probing_endpoint e"
        )
        (columns,) = cursor.fetchall()
    assert "plain-s3cret" not in " ".join(columns)
    assert Destination.objects.get(pk=destination.pk).secret_options == {
        "secret_access_key": "plain-s3cret"
    }
    assert Endpoint.objects.get(pk=endpoint.pk).auth_header == "X-Key: plain-s3cret"
