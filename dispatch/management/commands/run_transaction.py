from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from dispatch.worker_rclone import worker_rclone
from foundation.content_store import artifact_store
from worker_wing.release.executor import execute_release_job


class Command(BaseCommand):
    help = (
        "Execute one release job from its JSON, exactly as a dispatch worker would, with no "
        "database. Secrets shown as *** in an exported job are read from RCLONE_CONFIG_PPIPEDEST_* "
        "variables (e.g. RCLONE_CONFIG_PPIPEDEST_SECRET_ACCESS_KEY)."
    )
    # No database: this is how a failed transaction is re-taken on any machine.
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "file", help="the job JSON (from the admin or `export_transaction`), or - for stdin"
        )

    def handle(self, *args: Any, file: str, **options: Any) -> None:
        try:
            text = sys.stdin.read() if file == "-" else Path(file).read_text()
            job = json.loads(text)
        except (OSError, json.JSONDecodeError) as error:
            raise CommandError(f"cannot read the job: {error}") from None
        destination = job.get("destination", {}) if isinstance(job, dict) else {}
        self.stderr.write(
            f"Releasing rows {job.get('rows')} of {job.get('challenge')} to "
            f"{destination.get('name')}:{destination.get('path')} …"
        )
        # The operator running this is in charge of where a local job writes.
        result = execute_release_job(
            job,
            artifacts=artifact_store(),
            rclone=worker_rclone(timeout=settings.PPIPE_DISPATCH_TIME_LIMIT),
            local_roots=None,
        )
        self.stdout.write(json.dumps(result, indent=2))
        if not result["ok"]:
            raise CommandError(f"the release failed: {result['error']}")
        self.stderr.write(f"Done: {result['bytes']} bytes, verified by {result['verified']}.")
