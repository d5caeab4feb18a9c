"""Every write of a secret encrypts it afresh, so no lookup on it could match: a
query by a secret's value fails loudly instead of silently finding nothing."""

from __future__ import annotations

import pytest
from django.core.exceptions import FieldError

from dispatch.models import Destination
from probing.models import Endpoint

pytestmark = pytest.mark.django_db


def test_a_lookup_by_a_secrets_value_is_refused() -> None:
    with pytest.raises(FieldError):
        Endpoint.objects.filter(auth_header="X-Key: s3cret")
    with pytest.raises(FieldError):
        Destination.objects.filter(secret_options__secret_access_key="s3cret")

    assert not Endpoint.objects.filter(auth_header__isnull=True).exists()
