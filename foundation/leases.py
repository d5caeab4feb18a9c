"""One job lifecycle for everything the platform hands to a worker under a lease:
release transactions, submissions, reproductions, probes and mails.

    waiting --claim--> claimed --start--> running --record once--> ended
       ^                  |                  |
       +---- retry -------+---- reap --------+  (or fail when attempts run out)

Every step is a conditional update on the row's state (and the attempt it
concerns), so a second beat, a late result, the reaper and a cancel can race
without a job being sent, recorded or ended twice. Each app keeps its own state
names, attempt budget, backoff and timeline through a `Lifecycle`; what the
steps mean is written once, here.

The lease is the only clock: a claimed or running job whose lease ran out (its
message lost, its worker dead) is taken back by the app's reaper, with
`expired()`. Times are the control side's, never a worker's.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Generic, Literal, TypeVar

from django.conf import settings
from django.db import models
from django.db.models import F, QuerySet


class LeasedJob(models.Model):
    """The fields of a job under a lease; each model keeps its own `state`."""

    # Runs that counted against `max_attempts` (when they count: Lifecycle.counts_at).
    attempts = models.PositiveIntegerField(default=0)
    max_attempts = models.PositiveIntegerField(default=3)
    # A claimed or running job that has not answered by then is reaped.
    lease_expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True


Job = TypeVar("Job", bound=LeasedJob)


@dataclass(frozen=True)
class Backoff:
    """Exponential backoff with ±50 % jitter, so jobs failed together (a server
    down for a minute) do not all come back together. Named settings, read at
    each retry: an operator's change applies without a restart."""

    base_setting: str
    max_setting: str

    def seconds(self, attempt: int) -> float:
        base = float(getattr(settings, self.base_setting)) * 2 ** max(0, attempt - 1)
        capped = min(base, float(getattr(settings, self.max_setting)))
        return capped * random.uniform(0.5, 1.5)  # noqa: S311 - jitter, not a secret


@dataclass(frozen=True)
class Retry:
    """What `Lifecycle.retry_or_fail` decided: back to waiting (at `at`, or at once
    when there is no backoff) or ended as failed; `changed` is False when another
    step got there first."""

    state: str
    changed: bool
    at: datetime | None = None


@dataclass(frozen=True)
class Lifecycle(Generic[Job]):
    """One kind of job's states and policy, and the lifecycle's steps on its rows."""

    model: type[Job]
    waiting: str
    claimed: str
    # The state a worker's "started" report moves a claimed job to (None: the
    # claimer runs it itself, as a mail's sender does).
    running: str | None
    failed: str
    # An attempt is counted when the job is claimed (every message sent costs
    # one) or when a worker starts it (a message that expired unseen is free).
    counts_at: Literal["claim", "start"] = "claim"
    # None: a retry is due at once.
    backoff: Backoff | None = None

    @property
    def in_flight(self) -> tuple[str, ...]:
        return (self.claimed, self.running) if self.running else (self.claimed,)

    def _rows(self) -> QuerySet[Job]:
        return self.model._default_manager.all()

    def claim(self, job_id: int, *, attempts: int | None, lease: datetime, **fields: Any) -> bool:
        """waiting → claimed, if it still is waiting with `attempts` as read (None:
        whatever it has). Counts an attempt when the policy counts at claim."""
        rows = self._rows().filter(id=job_id, state=self.waiting)
        if attempts is not None:
            rows = rows.filter(attempts=attempts)
        if self.counts_at == "claim":
            fields["attempts"] = F("attempts") + 1
        return bool(rows.update(state=self.claimed, lease_expires_at=lease, **fields))

    def start(self, job_id: int, *, attempt: int, lease: datetime, **fields: Any) -> bool:
        """claimed → running for the run numbered `attempt` (a late "started" of a
        run the reaper took back changes nothing)."""
        assert self.running is not None, "this lifecycle has no running state"
        counted_before = attempt if self.counts_at == "claim" else attempt - 1
        return bool(
            self._rows()
            .filter(id=job_id, state=self.claimed, attempts=counted_before)
            .update(state=self.running, attempts=attempt, lease_expires_at=lease, **fields)
        )

    def unclaim(self, job_id: int, *, attempts: int, **fields: Any) -> bool:
        """claimed → waiting: a message no worker took in time goes back to wait
        (free when attempts count at start; counted when at claim)."""
        return bool(
            self._rows()
            .filter(id=job_id, state=self.claimed, attempts=attempts)
            .update(state=self.waiting, lease_expires_at=None, **fields)
        )

    def heartbeat(self, job_id: int, *, attempt: int, lease: datetime) -> bool:
        """A running job's worker is alive: extend its lease."""
        return bool(
            self._rows()
            .filter(id=job_id, state=self.running, attempts=attempt)
            .update(lease_expires_at=lease)
        )

    def locked(self, job_id: int, rows: QuerySet[Job] | None = None) -> Job | None:
        """The row, locked until the transaction ends, for recording a result once."""
        query = self._rows() if rows is None else rows
        return query.select_for_update(of=("self",)).filter(id=job_id).first()

    def is_current(self, row: Job, attempt: int) -> bool:
        """Whether a report of run `attempt` concerns the run now in flight. A result
        may overtake its "started" message: a claimed job whose next run is that
        attempt is current too."""
        state: str = getattr(row, "state")  # noqa: B009 - each model declares its own
        if state == self.running:
            return row.attempts == attempt
        if state == self.claimed:
            return row.attempts == (attempt if self.counts_at == "claim" else attempt - 1)
        return False

    def end(self, job_id: int, state: str, *, only_from: tuple[str, ...], **fields: Any) -> bool:
        """Move a job from one of `only_from` to `state`, giving its lease up."""
        return bool(
            self._rows()
            .filter(id=job_id, state__in=only_from)
            .update(state=state, lease_expires_at=None, **fields)
        )

    def retry_or_fail(
        self,
        row: Job,
        *,
        transient: bool,
        now: datetime,
        attempt: int | None = None,
        retry_fields: dict[str, Any] | None = None,
        fail_fields: dict[str, Any] | None = None,
    ) -> Retry:
        """An attempt that did not succeed: back to waiting while attempts remain
        and the failure is worth another (with the policy's backoff), else failed.
        Only the attempt in flight (as `row` was read) is moved: a step that got
        there first wins. `attempt` is the run that ended, when its result
        overtook its "started" report (default: the row's count)."""
        run = row.attempts if attempt is None else attempt
        current = self._rows().filter(id=row.pk, state__in=self.in_flight, attempts=row.attempts)
        if transient and run < row.max_attempts:
            at = now + timedelta(seconds=self.backoff.seconds(run)) if self.backoff else None
            fields: dict[str, Any] = {"attempts": run, **(retry_fields or {})}
            if self.backoff is not None:
                fields["next_attempt_at"] = at
            changed = current.update(state=self.waiting, lease_expires_at=None, **fields)
            return Retry(self.waiting, bool(changed), at)
        changed = current.update(
            state=self.failed, attempts=run, lease_expires_at=None, **(fail_fields or {})
        )
        return Retry(self.failed, bool(changed))

    def expired(self, now: datetime) -> QuerySet[Job]:
        """Jobs in flight whose lease ran out, for the reaper."""
        return self._rows().filter(state__in=self.in_flight, lease_expires_at__lt=now)
