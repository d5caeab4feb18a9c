"""A stored secret that no configured key opens fails with an error that names
PPIPE_SECRETS_KEYS and where the secret is stored, and shows neither the stored
token nor the secret, in its message or its traceback."""

from __future__ import annotations

import traceback
from io import StringIO
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.db import connection

from dispatch.models import Destination
from foundation.secrets_at_rest import SecretDecryptionError
from tests.factories import DestinationFactory

pytestmark = pytest.mark.django_db


def _destination_under_another_key(teacher: Any) -> tuple[Destination, str]:
    destination = DestinationFactory(
        owner=teacher, type="s3", path="b", secret_options={"secret_access_key": "Sup3r-S3cret"}
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT secret_options FROM dispatch_destination WHERE id = %s", [destination.pk]
        )
        (token,) = cursor.fetchone()
    return destination, token


def test_reading_it_names_the_setting_and_shows_no_secret(teacher: Any, settings: Any) -> None:
    destination, token = _destination_under_another_key(teacher)
    settings.PPIPE_SECRETS_KEYS = [Fernet.generate_key().decode()]

    with pytest.raises(SecretDecryptionError) as caught:
        Destination.objects.get(pk=destination.pk)

    shown = "".join(traceback.format_exception(caught.value))
    assert "PPIPE_SECRETS_KEYS" in str(caught.value)
    assert "dispatch.Destination.secret_options" in str(caught.value)
    assert token not in shown
    assert "Sup3r-S3cret" not in shown


def test_rotating_without_the_old_key_stops_with_the_same_message(
    teacher: Any, settings: Any
) -> None:
    destination, token = _destination_under_another_key(teacher)
    settings.PPIPE_SECRETS_KEYS = [Fernet.generate_key().decode()]

    with pytest.raises(CommandError) as caught:
        call_command("rotate_secrets", stdout=StringIO())

    assert f"dispatch.Destination.secret_options, row {destination.pk}" in str(caught.value)
    assert "PPIPE_SECRETS_KEYS" in str(caught.value)
    assert token not in str(caught.value)
