"""Destination secret options and endpoint auth headers are stored encrypted: the
database column holds a Fernet token under the first key of PPIPE_SECRETS_KEYS,
never the secret, and the model reads the secret back."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.db import connection

from dispatch.models import Destination
from probing.models import Endpoint
from tests.factories import DestinationFactory
from tests.submissions import participants, published_challenge

pytestmark = pytest.mark.django_db


def stored(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {column} FROM {table} WHERE id = %s", [pk])  # noqa: S608
        (value,) = cursor.fetchone()
    return str(value)


def test_a_destinations_secret_options_are_stored_encrypted(teacher: Any, settings: Any) -> None:
    destination = DestinationFactory(
        owner=teacher, type="s3", path="b", secret_options={"secret_access_key": "Sup3r-S3cret"}
    )

    column = stored("dispatch_destination", "secret_options", destination.pk)

    assert "Sup3r-S3cret" not in column
    assert "secret_access_key" not in column  # not even which options are set
    assert Fernet(settings.PPIPE_SECRETS_KEYS[0]).decrypt(column)
    assert Destination.objects.get(pk=destination.pk).secret_options == {
        "secret_access_key": "Sup3r-S3cret"
    }


def test_an_endpoints_auth_header_is_stored_encrypted(settings: Any) -> None:
    (student,) = participants(published_challenge(), 1)
    endpoint = Endpoint.objects.create(
        challenge=student.challenge,
        participant=student,
        url="https://model.example.org",
        protocol="json",
        auth_header="Authorization: Bearer s3cret-token",
    )

    column = stored("probing_endpoint", "auth_header", endpoint.pk)

    assert "s3cret-token" not in column
    assert "Authorization" not in column
    assert Fernet(settings.PPIPE_SECRETS_KEYS[0]).decrypt(column)
    assert Endpoint.objects.get(pk=endpoint.pk).auth_header == "Authorization: Bearer s3cret-token"
