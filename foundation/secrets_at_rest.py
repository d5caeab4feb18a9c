"""Secrets at rest: model fields whose values are stored Fernet-encrypted.

The keys (settings.PPIPE_SECRETS_KEYS) live outside the database, in the
environment or in a key file in the var folder, so a dump or a backup of the
database alone gives away no teacher's storage credentials and no student's
endpoint token. The first key encrypts and every key decrypts, so an operator
rotates by putting a new key first, running `manage.py rotate_secrets`, then
dropping the old key.

Only the control side reads these fields: it builds dispatch and probe jobs with
the secrets in them, and workers, which never open the database, need no key.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.apps import apps
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DataError, connection, models, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models.lookups import Lookup
from django.views.decorators.debug import sensitive_variables

from foundation.env import fernet_key

SETTING = "PPIPE_SECRETS_KEYS"
BATCH_SIZE = 500


class SecretDecryptionError(ImproperlyConfigured):
    """A stored secret that no key in PPIPE_SECRETS_KEYS opens. The message names
    where it is stored, never the stored value or the secret."""

    def __init__(self, where: str) -> None:
        super().__init__(
            f"A stored secret ({where}) cannot be decrypted with any key in {SETTING}: "
            "the key that encrypted it is missing, or ppipe did not write the value. "
            f"Put that key back in {SETTING}, after the current one."
        )


@lru_cache(maxsize=8)
def _cipher(keys: tuple[str, ...]) -> MultiFernet:
    return MultiFernet(
        [
            Fernet(fernet_key(key, source=f"{SETTING} (key {position} of {len(keys)})"))
            for position, key in enumerate(keys, start=1)
        ]
    )


def secrets_cipher() -> MultiFernet:
    """The keys as the settings hold them now (tests override them); the first encrypts."""
    keys = tuple(getattr(settings, SETTING, ()))
    if not keys:
        raise ImproperlyConfigured(f"{SETTING} is empty: secrets at rest need at least one key.")
    return _cipher(keys)


# The debug page and error reports show a frame's local variables: not these.
@sensitive_variables()
def encrypt_secret(plaintext: str) -> str:
    return secrets_cipher().encrypt(plaintext.encode()).decode()


@sensitive_variables()
def decrypt_secret(token: str, *, where: str) -> str:
    try:
        return secrets_cipher().decrypt(token).decode()
    except InvalidToken:
        # `from None`: the token is no use to a reader of the traceback.
        raise SecretDecryptionError(where) from None


def reencrypt_secret(token: str, *, where: str) -> str:
    """The same secret, encrypted with the first key."""
    try:
        return secrets_cipher().rotate(token).decode()
    except InvalidToken:
        raise SecretDecryptionError(where) from None


def _where(field: models.Field[Any, Any]) -> str:
    return f"{field.model._meta.label}.{field.name}"


# Each write encrypts afresh (a random IV), so an equality or text lookup on these
# fields could never match: they refuse every lookup but isnull (a FieldError)
# rather than silently match nothing.


class EncryptedTextField(models.TextField):
    """Text kept encrypted in a text column, read back as the plain text."""

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None:
            return None
        # The column holds the longer ciphertext, so it no longer bounds the text: this does.
        if self.max_length is not None and len(value) > self.max_length:
            raise DataError(f"{_where(self)} is longer than {self.max_length} characters.")
        return encrypt_secret(value)

    def from_db_value(
        self, value: str | None, expression: Any, connection: BaseDatabaseWrapper
    ) -> str | None:
        return None if value is None else decrypt_secret(value, where=_where(self))

    def get_lookup(self, lookup_name: str) -> type[Lookup[Any]] | None:
        return super().get_lookup(lookup_name) if lookup_name == "isnull" else None


class EncryptedJSONField(models.Field):
    """A JSON value kept encrypted in a text column, read back as the value."""

    empty_strings_allowed = False

    def get_internal_type(self) -> str:
        return "TextField"

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        return None if value is None else encrypt_secret(json.dumps(value))

    def from_db_value(
        self, value: str | None, expression: Any, connection: BaseDatabaseWrapper
    ) -> Any:
        return None if value is None else json.loads(decrypt_secret(value, where=_where(self)))

    def to_python(self, value: Any) -> Any:
        return value  # already the Python value: it never arrives as text from a form

    def value_to_string(self, obj: models.Model) -> Any:
        return self.value_from_object(obj)  # as JSONField does, for the serialisers

    def get_lookup(self, lookup_name: str) -> type[Lookup[Any]] | None:
        return super().get_lookup(lookup_name) if lookup_name == "isnull" else None


ENCRYPTED_FIELDS = (EncryptedTextField, EncryptedJSONField)


@dataclass
class ColumnRewrite:
    """What rewriting one encrypted column did."""

    where: str
    rewritten: int = 0
    # Written by the application between our read and our update: already under
    # the current first key, so left as it is.
    changed_meanwhile: int = 0


def rewrite_column(
    connection: BaseDatabaseWrapper,
    *,
    table: str,
    column: str,
    rewrite: Callable[[str, str], str],
    pk: str = "id",
    where: str | None = None,
    on_batch: Callable[[ColumnRewrite], None] = lambda _: None,
) -> ColumnRewrite:
    """Pass every non-null value of a column through `rewrite(value, where_row)`, in
    raw SQL: migrations use it where the historical field would try to decrypt
    plaintext, and rotation to see the stored tokens. Each update is conditional
    on the value read, so a secret saved meanwhile is never overwritten."""
    quote = connection.ops.quote_name
    q_table, q_column, q_pk = quote(table), quote(column), quote(pk)
    done = ColumnRewrite(where=where or f"{table}.{column}")
    # Identifiers come from model metadata and are quoted; values are parameters.
    first = f"SELECT {q_pk}, {q_column} FROM {q_table} WHERE {q_column} IS NOT NULL"  # noqa: S608
    after = f"{first} AND {q_pk} > %s"
    update = f"UPDATE {q_table} SET {q_column} = %s WHERE {q_pk} = %s AND {q_column} = %s"  # noqa: S608
    last: Any = None
    while True:
        with transaction.atomic(using=connection.alias), connection.cursor() as cursor:
            if last is None:
                cursor.execute(f"{first} ORDER BY {q_pk} LIMIT %s", [BATCH_SIZE])
            else:
                cursor.execute(f"{after} ORDER BY {q_pk} LIMIT %s", [last, BATCH_SIZE])
            rows = cursor.fetchall()
            for row_pk, value in rows:
                new = rewrite(value, f"{done.where}, row {row_pk}")
                cursor.execute(update, [new, row_pk, value])
                if cursor.rowcount == 1:
                    done.rewritten += 1
                else:
                    done.changed_meanwhile += 1
        if not rows:
            return done
        last = rows[-1][0]
        on_batch(done)


def encrypted_columns() -> list[tuple[type[models.Model], models.Field[Any, Any]]]:
    """Every encrypted field of the installed models."""
    return [
        (model, field)
        for model in apps.get_models()
        for field in model._meta.local_fields
        if isinstance(field, ENCRYPTED_FIELDS)
    ]


def secrets_rotate(
    *, on_batch: Callable[[ColumnRewrite], None] = lambda _: None
) -> list[ColumnRewrite]:
    """Re-encrypt every stored secret with the first key, so the keys after it can
    be dropped. Safe to run again, and while the platform runs."""
    return [
        rewrite_column(
            connection,
            table=model._meta.db_table,
            column=field.column,
            pk=model._meta.pk.column,
            where=_where(field),
            rewrite=lambda token, where: reencrypt_secret(token, where=where),
            on_batch=on_batch,
        )
        for model, field in encrypted_columns()
    ]
