"""A failure's kind read from its reason: the one place that knows how the
platform words its failures.

The judge words a limit the same way wherever it is found (the cgroup's figures,
the signal the kernel sent, the error the student's process printed), so the
executor names those kinds from its own sentence; the migrations that gave kinds
to failures recorded before kinds existed, and results of workers older than
kinds, read them here too. Only the start of a reason decides a limit's kind:
a student's exception message quoted later in a reason cannot pose as one.
"""

from __future__ import annotations

import re

from worker_wing.jobs import FailureKind

_LIMITS: tuple[tuple[re.Pattern[str], FailureKind], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), kind)
    for pattern, kind in (
        (r"^cpu time limit", FailureKind.CPU),
        (r"^memory limit", FailureKind.MEMORY),
        (r"^wall-clock limit", FailureKind.WALL),
        (r"^a file or the output grew past", FailureKind.FILE_SIZE),
        (r"^process limit", FailureKind.PROCESSES),
    )
)
_PLATFORM: tuple[tuple[re.Pattern[str], FailureKind], ...] = tuple(
    (re.compile(pattern, re.IGNORECASE), kind)
    for pattern, kind in (
        (r"^cancelled\b", FailureKind.CANCELLED),
        (r"stopped answering|^no answer:|took it in time", FailureKind.LOST),
        (
            r"^this judge worker (cannot|could not) sandbox|^the sandbox (could not start|ended)",
            FailureKind.SANDBOX,
        ),
        (
            r"^the job's inputs are not readable|^internal error on|own time limit ran out"
            r"|^the judge worker gave no reason|readable predictions",
            FailureKind.INFRASTRUCTURE,
        ),
    )
)


def limit_kind(reason: str) -> FailureKind | None:
    """The limit a reason says the job hit (the judge's own wording), if any."""
    text = reason.strip()
    return next((kind for pattern, kind in _LIMITS if pattern.search(text)), None)


def kind_of_reason(reason: str, *, queue: str) -> FailureKind:
    """The kind of a failure known only by its reason. On the judge queue whatever
    is not a limit or the platform's own wording is the student's code; a release
    (dispatch) fails for the platform's or the destination's reasons, never a
    student's; anything unrecognised is infrastructure, for an operator to read."""
    text = reason.strip()
    for pattern, kind in _PLATFORM:
        if pattern.search(text):
            return kind
    if queue != "judge":
        return FailureKind.INFRASTRUCTURE
    limit = limit_kind(text)
    if limit is not None:
        return limit
    return FailureKind.STUDENT_ERROR if text else FailureKind.INFRASTRUCTURE
