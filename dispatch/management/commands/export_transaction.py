from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dispatch.jobs import with_secrets as job_with_secrets
from dispatch.models import Transaction


class Command(BaseCommand):
    help = "Print a transaction's job JSON, to re-run it with `run_transaction` on any machine."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("transaction_id", type=int)
        parser.add_argument(
            "--with-secrets",
            action="store_true",
            help="include the destination's secrets (handle the file with care)",
        )

    def handle(
        self, *args: Any, transaction_id: int, with_secrets: bool = False, **options: Any
    ) -> None:
        row = Transaction.objects.select_related("destination").filter(id=transaction_id).first()
        if row is None:
            raise CommandError(f"no transaction {transaction_id}")
        job = (
            job_with_secrets(row.job, row.destination, attempt=row.attempts)
            if with_secrets
            else row.job
        )
        self.stdout.write(json.dumps(job, indent=2, sort_keys=True))
