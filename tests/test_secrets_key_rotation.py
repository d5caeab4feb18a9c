"""Key rotation: a secret encrypted under an old key still reads once a new key is
put first, and `rotate_secrets` re-encrypts it so that it reads with the new key
alone (the old one can then be dropped)."""

from __future__ import annotations

from io import StringIO
from typing import Any

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command

from dispatch.models import Destination
from probing.models import Endpoint
from tests.factories import DestinationFactory
from tests.submissions import participants, published_challenge

pytestmark = pytest.mark.django_db


def test_rotate_secrets_moves_every_secret_to_the_new_key(teacher: Any, settings: Any) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.PPIPE_SECRETS_KEYS = [old]
    destination = DestinationFactory(
        owner=teacher, type="s3", path="b", secret_options={"secret_access_key": "old-s3cret"}
    )
    (student,) = participants(published_challenge(owner=teacher), 1)
    endpoint = Endpoint.objects.create(
        challenge=student.challenge, participant=student, url="https://m.example.org",
        protocol="json", auth_header="X-Key: old-s3cret",
    )  # fmt: skip

    settings.PPIPE_SECRETS_KEYS = [new, old]
    read_with_both = Destination.objects.get(pk=destination.pk).secret_options
    output = StringIO()
    call_command("rotate_secrets", stdout=output)
    settings.PPIPE_SECRETS_KEYS = [new]

    assert read_with_both == {"secret_access_key": "old-s3cret"}
    assert Destination.objects.get(pk=destination.pk).secret_options == read_with_both
    assert Endpoint.objects.get(pk=endpoint.pk).auth_header == "X-Key: old-s3cret"
    assert "dispatch.Destination.secret_options: 1 re-encrypted" in output.getvalue()
    assert "probing.Endpoint.auth_header: 1 re-encrypted" in output.getvalue()
    assert "old-s3cret" not in output.getvalue()
