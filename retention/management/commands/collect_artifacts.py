from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.template.defaultfilters import filesizeformat

from challenges.models import Challenge
from retention.services import artifacts_collect


class Command(BaseCommand):
    help = (
        "Remove the artifacts of runs past their challenge's retention policy and delete "
        "stored files no row refers to (one bounded pass, as the periodic task does). "
        "With --dry-run, print what would go and the space it would free, and change nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="report only: delete and change nothing"
        )
        parser.add_argument(
            "--challenge",
            action="append",
            default=[],
            metavar="SLUG",
            help="only this challenge's runs (repeatable); unreferenced files are then left alone",
        )
        parser.add_argument(
            "--runs", action="store_true", help="list every run that goes, not only the totals"
        )

    def handle(self, *args: Any, dry_run: bool, challenge: list[str], runs: bool, **o: Any) -> None:
        ids = None
        if challenge:
            found = dict(Challenge.objects.filter(slug__in=challenge).values_list("slug", "id"))
            unknown = sorted(set(challenge) - set(found))
            if unknown:
                raise CommandError(f"no challenge with slug {', '.join(unknown)}")
            ids = list(found.values())
        report = artifacts_collect(
            dry_run=dry_run, challenge_ids=ids, progress=lambda line: self.stderr.write(line)
        )
        verb = "would remove" if dry_run else "removed"
        for entry in report.challenges:
            self.stdout.write(
                f"{entry.slug}: {verb} the artifacts of {len(entry.runs)} run(s), "
                f"{len(entry.files)} file(s), {filesizeformat(entry.bytes)} ({entry.bytes} bytes)"
            )
            if runs:
                for run in entry.runs:
                    self.stdout.write(
                        f"  submission {run.submission_id} ended {run.ended_at:%Y-%m-%d}: "
                        f"{run.reason}"
                    )
        if ids is None:
            self.stdout.write(
                f"store: {report.store_files} file(s), {filesizeformat(report.store_bytes)}; "
                f"no row refers to {len(report.unreferenced)} file(s) past the grace period "
                f"({filesizeformat(report.bytes)}, {report.bytes} bytes), "
                f"{report.young} within it (kept this time)"
            )
        if dry_run:
            self.stdout.write("Dry run: nothing was changed.")
        else:
            self.stdout.write(
                f"Collected {report.runs_collected} run(s); deleted {report.files_deleted} "
                f"file(s), {filesizeformat(report.bytes_freed)} ({report.bytes_freed} bytes) "
                f"freed; {report.files_left} file(s) left for a later pass."
            )
