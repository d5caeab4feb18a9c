"""Collecting artifacts: the runs the policy lets go lose their references, then
the files no row refers to any more are deleted (retention/sweep.py says why in
that order, and how a writer racing the collector is kept safe).

One pass does at most PPIPE_RETENTION_RUNS_PER_PASS runs and
PPIPE_RETENTION_BLOBS_PER_PASS files; what is left is the next pass's. Every
step may be repeated: a run already collected is no longer a candidate, a file
already gone is skipped. Two passes at once (the periodic task and the command)
only share the work.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction as db_transaction
from django.utils import timezone

from challenges.models import Challenge
from foundation.content_store import artifact_store
from judging.models import Submission, SubmissionEvent
from retention.models import CollectedRun, CollectionPass, StoreUsage
from retention.policy import ExpiredRun, collectable_rows, expired_runs
from retention.references import every_reference, references_by_challenge
from retention.sweep import Progress, StoredFile, file_delete, files_of, stored_files
from worker_wing.content_store import ContentStore


@dataclass
class ChallengeReport:
    challenge_id: int
    slug: str
    name: str
    runs: list[ExpiredRun] = field(default_factory=list)
    # Files only these runs refer to (a file also another challenge's expiring run
    # refers to counts in both challenges' figures, once in the total).
    files: dict[str, int] = field(default_factory=dict)

    @property
    def bytes(self) -> int:
        return sum(self.files.values())


@dataclass
class CollectionReport:
    dry_run: bool
    challenges: list[ChallengeReport] = field(default_factory=list)
    # Files no row refers to (or will, after the runs above), past the grace period.
    unreferenced: dict[str, int] = field(default_factory=dict)
    # Files no row refers to that are within the grace period: kept this time.
    young: int = 0
    store_files: int = 0
    store_bytes: int = 0
    # A real pass's figures.
    runs_collected: int = 0
    files_deleted: int = 0
    bytes_freed: int = 0
    files_left: int = 0

    @property
    def runs(self) -> int:
        return sum(len(c.runs) for c in self.challenges)

    @property
    def bytes(self) -> int:
        return sum(self.unreferenced.values())


def _challenges(challenge_ids: Iterable[int] | None) -> list[Challenge]:
    challenges = Challenge.objects.order_by("id").only("id", "slug", "name", "published_at")
    if challenge_ids is not None:
        challenges = challenges.filter(pk__in=list(challenge_ids))
    # Only a published challenge has a split and runs (its kept set needs the split).
    return [c for c in challenges if c.is_published]


# Runs collected per transaction: one statement each for their rows, their records
# and their notes, instead of five per run (the judging_submission triggers fire
# per statement), while a transaction still holds few row locks for long.
CHUNK = 200


def runs_collect(*, runs: list[ExpiredRun], now: datetime) -> int:
    """Remove expired runs' references to their artifacts; returns how many. A run
    that changed since it was chosen (selected, promoted, reproduced meanwhile) is
    left alone: the checks are made again under the rows' locks. A pick or a
    reproduction that comes just after this commits finds a run without artifacts,
    which is all it lost: its scores count, and a reproduction needs only its code
    and data."""
    done = 0
    reasons = {run.submission_id: run.reason[:200] for run in runs}
    ids = list(reasons)
    for start in range(0, len(ids), CHUNK):
        with db_transaction.atomic():
            rows = list(
                collectable_rows(ids[start : start + CHUNK])
                .order_by("pk")
                .select_for_update(of=("self",))
                .only("id", "state", "attempts", "artifacts")
            )
            if not rows:
                continue
            CollectedRun.objects.bulk_create(
                [
                    CollectedRun(
                        submission_id=row.pk,
                        collected_at=now,
                        reason=reasons[row.pk],
                        artifacts=row.artifacts,
                    )
                    for row in rows
                ],
                update_conflicts=True,
                unique_fields=["submission"],
                update_fields=["collected_at", "reason", "artifacts"],
            )
            Submission.objects.filter(pk__in=[row.pk for row in rows]).update(artifacts={})
            SubmissionEvent.objects.bulk_create(
                SubmissionEvent(
                    submission_id=row.pk,
                    state=row.state,
                    attempt=row.attempts,
                    message="Artifacts (predictions, logs, model) removed by the retention "
                    f"policy: {reasons[row.pk]}. Scores, code and this timeline are kept.",
                )
                for row in rows
            )
            done += len(rows)
    return done


def artifacts_collect(
    *,
    dry_run: bool,
    challenge_ids: Iterable[int] | None = None,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> CollectionReport:
    """One pass of the collector, or (dry_run) the report of what it would do,
    which changes nothing. With `challenge_ids`, only those challenges' runs are
    considered (a teacher's report); files no row refers to are then left alone."""
    now = now or timezone.now()
    say: Callable[[str], None] = progress or (lambda _message: None)
    runs_left = settings.PPIPE_RETENTION_RUNS_PER_PASS
    report = CollectionReport(dry_run=dry_run)
    # Only a pass over the whole store is recorded: its figures are the store's.
    started = CollectionPass(started_at=now) if not dry_run and challenge_ids is None else None

    # 1. Mark: the expired runs of each challenge, oldest first, within the bound.
    for challenge in _challenges(challenge_ids):
        if runs_left <= 0:
            break
        runs = expired_runs(challenge, now=now, limit=runs_left)
        runs_left -= len(runs)
        entry = ChallengeReport(challenge.pk, challenge.slug, challenge.name, runs)
        report.challenges.append(entry)
        if not dry_run:
            report.runs_collected += runs_collect(runs=runs, now=now)
        say(f"{challenge.slug}: {len(runs)} run(s) past the policy")

    # 2. What rows refer to now (after the marks committed), or would after them.
    expiring = frozenset(r.submission_id for c in report.challenges for r in c.runs)
    by_challenge = references_by_challenge(
        without_artifacts_of=expiring if dry_run else frozenset()
    )
    referenced = every_reference(by_challenge)

    # 3. The store, walked after the references were read (retention/sweep.py); for
    # some challenges' report, only their expiring runs' files are looked at.
    store = artifact_store()
    if challenge_ids is None:
        files = stored_files(store, progress=progress)
        report.store_files = len(files)
        report.store_bytes = sum(f.size for f in files.values())
        say(f"the store holds {report.store_files} files, {report.store_bytes} bytes")
    else:
        files = files_of(
            store, {str(d) for c in report.challenges for r in c.runs for d in r.artifacts.values()}
        )
    older_than = (now - timedelta(hours=settings.PPIPE_RETENTION_GRACE_HOURS)).timestamp()
    for entry in report.challenges:
        for run in entry.runs:
            for digest in run.artifacts.values():
                stored = files.get(str(digest))
                if stored is not None and digest not in referenced:
                    entry.files[str(digest)] = stored.size
    if challenge_ids is None:
        for digest, stored in files.items():
            if digest in referenced:
                continue
            if stored.mtime < older_than:
                report.unreferenced[digest] = stored.size
            else:
                report.young += 1

    # 4. Sweep (a real pass over the whole store only).
    if not dry_run and challenge_ids is None:
        _sweep(store, report, older_than, say)
        _usage_record(by_challenge, files, report, now)
    if started is not None:
        started.finished_at = timezone.now()
        started.runs_collected = report.runs_collected
        started.blobs_deleted = report.files_deleted
        started.bytes_freed = report.bytes_freed
        started.store_blobs = report.store_files - report.files_deleted
        started.store_bytes = report.store_bytes - report.bytes_freed
        started.blobs_left = report.files_left
        started.save()
    return report


def _sweep(store: ContentStore, report: CollectionReport, older_than: float, say: Progress) -> None:
    budget = settings.PPIPE_RETENTION_BLOBS_PER_PASS
    for digest in sorted(report.unreferenced):
        if report.files_deleted >= budget:
            report.files_left += 1
            continue
        freed = file_delete(store, digest, older_than=older_than)
        if freed is not None:
            report.files_deleted += 1
            report.bytes_freed += freed
            if report.files_deleted % 1000 == 0:
                say(f"deleted {report.files_deleted} files, {report.bytes_freed} bytes")
    report.files_left += report.young


def _usage_record(
    by_challenge: dict[int | None, set[str]],
    files: dict[str, StoredFile],
    report: CollectionReport,
    now: datetime,
) -> None:
    rows = []
    for challenge_id in Challenge.objects.values_list("id", flat=True):
        present = [files[d].size for d in by_challenge.get(challenge_id, ()) if d in files]
        rows.append(
            StoreUsage(
                challenge_id=challenge_id, blobs=len(present), bytes=sum(present), measured_at=now
            )
        )
    StoreUsage.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["challenge"],
        update_fields=["blobs", "bytes", "measured_at"],
    )
