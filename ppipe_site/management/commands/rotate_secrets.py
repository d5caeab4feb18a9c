from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from foundation.secrets_at_rest import (
    ColumnRewrite,
    SecretDecryptionError,
    encrypted_columns,
    secrets_rotate,
)


class Command(BaseCommand):
    help = (
        "Re-encrypt every stored secret with the first key in PPIPE_SECRETS_KEYS. "
        "Rotation: put a new key first (NEW,OLD) on every process that reads the "
        "database, run this, then drop OLD."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        def progress(done: ColumnRewrite) -> None:
            self.stdout.write(f"  {done.where}: {done.rewritten} re-encrypted so far")

        self.stdout.write(f"Re-encrypting {len(encrypted_columns())} secret fields")
        try:
            results = secrets_rotate(on_batch=progress)
        except SecretDecryptionError as error:
            # Rows before the failing batch are re-encrypted already; a new run
            # with the missing key back in place finishes the job.
            raise CommandError(str(error)) from None
        for done in results:
            meanwhile = (
                f" ({done.changed_meanwhile} saved meanwhile by the platform, left as saved)"
                if done.changed_meanwhile
                else ""
            )
            self.stdout.write(f"{done.where}: {done.rewritten} re-encrypted{meanwhile}")
        total = sum(done.rewritten + done.changed_meanwhile for done in results)
        self.stdout.write(
            self.style.SUCCESS(
                f"Done: {total} stored secrets are under the first key; the keys after it may go."
            )
        )
