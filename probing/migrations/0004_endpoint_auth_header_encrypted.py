"""Endpoint.auth_header is stored encrypted (foundation/secrets_at_rest.py).

The column becomes text (a ciphertext is longer than the header it holds) and
every existing value is encrypted in place, in raw SQL: the historical model's
field would try to decrypt the plaintext. Backwards, every value is decrypted
with the keys in PPIPE_SECRETS_KEYS and the column is varchar(2000) again."""

from django.db import migrations

import foundation.secrets_at_rest
from foundation.secrets_at_rest import decrypt_secret, encrypt_secret, rewrite_column

COLUMN = "auth_header"


def _rewrite(apps, schema_editor, rewrite):
    table = apps.get_model("probing", "Endpoint")._meta.db_table
    rewrite_column(schema_editor.connection, table=table, column=COLUMN, rewrite=rewrite)


def encrypt_rows(apps, schema_editor):
    _rewrite(apps, schema_editor, lambda value, where: encrypt_secret(value))


def decrypt_rows(apps, schema_editor):
    _rewrite(apps, schema_editor, lambda value, where: decrypt_secret(value, where=where))


class Migration(migrations.Migration):

    dependencies = [
        ("probing", "0003_probe_scheduled_at_index"),
    ]

    operations = [
        migrations.AlterField(
            model_name="endpoint",
            name="auth_header",
            field=foundation.secrets_at_rest.EncryptedTextField(blank=True, editable=False, max_length=2000),
        ),
        migrations.RunPython(encrypt_rows, decrypt_rows),
    ]
