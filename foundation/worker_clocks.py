"""Workers' clocks as the control side sees them.

Nothing the platform decides hangs on a worker's clock: leases, deadlines and
timelines are the control side's time, and messages to remote workers carry no
absolute deadline (Celery compares a message's `expires` with the clock of the
worker that receives it, so a judge host five minutes ahead would drop every
job as expired, and the control side would see heartbeats from a host five
minutes behind as expired). A worker whose clock is off still deserves an
operator's look (its logs disagree with everything else): each report carrying
the worker's time is compared with the control side's, and a worker off by
more than WARN_SECONDS is logged and listed on the operations page.

The figures live in the result store (Redis), shared by every control process.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from foundation.heartbeat import result_store

logger = logging.getLogger(__name__)

SKEW_KEY = "ppipe:worker-clock-skew"
# Above what a message's trip through the broker adds, well below a lease.
WARN_SECONDS = 30.0
# A worker not heard of for this long drops off the list.
FORGET_AFTER = timedelta(hours=6)


@dataclass(frozen=True)
class WorkerClock:
    worker: str
    skew_seconds: float  # positive: the worker's clock is ahead
    seen_at: datetime

    @property
    def described(self) -> str:
        return describe_skew(self.skew_seconds)


def describe_skew(seconds: float) -> str:
    minutes, rest = divmod(round(abs(seconds)), 60)
    amount = f"{minutes} min {rest} s" if minutes else f"{rest} s"
    return f"{amount} {'ahead of' if seconds > 0 else 'behind'} the control side's"


def _load() -> dict[str, dict[str, object]]:
    raw = result_store().get(SKEW_KEY)
    if not raw:
        return {}
    try:
        found = json.loads(raw)
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def worker_clock_check(
    *, worker: str, reported_at: str | None, now: datetime | None = None
) -> float | None:
    """How far the worker's clock is off (seconds, positive when ahead), or None
    when it is within WARN_SECONDS or the report carries no time."""
    if not reported_at:
        return None
    now = now or datetime.now(UTC)
    try:
        skew = (datetime.fromisoformat(reported_at) - now).total_seconds()
    except (TypeError, ValueError):
        return None
    try:
        clocks = _load()
        if abs(skew) > WARN_SECONDS:
            clocks[worker] = {"skew": skew, "at": now.isoformat()}
        elif clocks.pop(worker, None) is None:
            return None
        result_store().set(SKEW_KEY, json.dumps(clocks))
    except Exception:  # the result store is down: the figure is only for operators
        logger.warning("could not note the clock of worker %s", worker)
    if abs(skew) <= WARN_SECONDS:
        return None
    logger.warning("the clock of worker %s is %s", worker, describe_skew(skew))
    return skew


def worker_described(*, worker: str, reported_at: str | None, now: datetime) -> str:
    """ "on <worker>" for a timeline, naming its clock when it is off."""
    skew = worker_clock_check(worker=worker, reported_at=reported_at, now=now)
    return f"on {worker}" + (f" (its clock is {describe_skew(skew)})" if skew else "")


def worker_clocks_off(*, now: datetime | None = None) -> list[WorkerClock]:
    """Workers whose clock was off when last heard of, worst first."""
    now = now or datetime.now(UTC)
    try:
        clocks = _load()
    except Exception:
        return []
    found = []
    for worker, seen in clocks.items():
        try:
            entry = WorkerClock(
                worker,
                float(str(seen["skew"])),
                datetime.fromisoformat(str(seen["at"])),
            )
        except (KeyError, TypeError, ValueError):
            continue
        if now - entry.seen_at < FORGET_AFTER:
            found.append(entry)
    return sorted(found, key=lambda entry: -abs(entry.skew_seconds))
