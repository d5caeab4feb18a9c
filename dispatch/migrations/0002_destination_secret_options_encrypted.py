"""Destination.secret_options is stored encrypted (foundation/secrets_at_rest.py).

The column becomes text and every existing value is encrypted in place, in raw
SQL: the historical model's field would try to decrypt the plaintext. Backwards,
every value is decrypted with the keys in PPIPE_SECRETS_KEYS and the column is
JSON again."""

import json

from django.db import migrations

import foundation.secrets_at_rest
from foundation.secrets_at_rest import decrypt_secret, encrypt_secret, rewrite_column

COLUMN = "secret_options"


def _rewrite(apps, schema_editor, rewrite):
    table = apps.get_model("dispatch", "Destination")._meta.db_table
    rewrite_column(schema_editor.connection, table=table, column=COLUMN, rewrite=rewrite)


def encrypt_rows(apps, schema_editor):
    # Re-serialised as the field writes it: PostgreSQL prints jsonb in its own way.
    _rewrite(apps, schema_editor, lambda value, where: encrypt_secret(json.dumps(json.loads(value))))


def decrypt_rows(apps, schema_editor):
    _rewrite(apps, schema_editor, lambda value, where: decrypt_secret(value, where=where))


class Migration(migrations.Migration):

    dependencies = [
        ("dispatch", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="destination",
            name="secret_options",
            field=foundation.secrets_at_rest.EncryptedJSONField(blank=True, default=dict, editable=False),
        ),
        migrations.RunPython(encrypt_rows, decrypt_rows),
    ]
