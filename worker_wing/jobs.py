"""The shapes of what crosses the broker between the control side and the workers,
and the one way a job fails.

Jobs and results travel as JSON through Celery, so their shapes are TypedDicts:
plain dicts on the wire (the control side's record tasks and stored results read
the same keys as ever), checked by mypy wherever they are built or read. A key
that only some results carry is `NotRequired`.

An executor that cannot do its job raises `JobFailure` (why, and whether trying
again could help) and turns it into its kind's failure result in one place
(`release_failure`, `judge_failure`); the task adapter turns a worker's time
limit or a bug of ours into the same exception, so every failure a teacher or
student reads went through one of those two functions.

Every failure also has a *kind* from a fixed vocabulary (`FailureKind`), decided
where the failure is known (the executor, the task adapter, the reaper, a
cancel): metrics and the operations page count by kind, never by the free-text
reason, which may quote a student's exception.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Literal, NotRequired, TypedDict

from worker_wing.worker_identity import worker_name


class FailureKind(StrEnum):
    """Why a job failed, in a word: the only failure label metrics carry."""

    # The student's code: it raised, returned nothing usable, or hit a limit of the job.
    STUDENT_ERROR = "student_error"
    CPU = "cpu"
    MEMORY = "memory"
    WALL = "wall"
    FILE_SIZE = "file_size"
    PROCESSES = "processes"
    # The platform's: a worker that cannot sandbox, an input or destination it
    # cannot reach, a bug of ours, a worker that stopped answering, a person's cancel.
    SANDBOX = "sandbox"
    INFRASTRUCTURE = "infrastructure"
    LOST = "lost"
    CANCELLED = "cancelled"


STUDENT_KINDS = frozenset(
    {
        FailureKind.STUDENT_ERROR,
        FailureKind.CPU,
        FailureKind.MEMORY,
        FailureKind.WALL,
        FailureKind.FILE_SIZE,
        FailureKind.PROCESSES,
    }
)


def failure_cause(kind: str) -> Literal["student", "operations"]:
    """Whose failure a kind is: the student's (their code, their limits) or the
    platform's, which an operator has to look at."""
    return "student" if kind in STUDENT_KINDS else "operations"


class JobFailure(Exception):
    """A job that could not be done: the reason its teacher or student reads, its
    kind, and whether running it again (here or on another worker) could succeed."""

    def __init__(
        self,
        reason: str,
        *,
        transient: bool,
        kind: FailureKind,
        measured: JudgeMeasured | None = None,
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.transient = transient
        self.kind = kind
        # A judge run that got as far as the sandbox still reports what it cost.
        self.measured = measured


# --- release (dispatch queue) ----------------------------------------------------
class ReleaseSource(TypedDict):
    sha256: str
    format: str


class ReleaseRows(TypedDict):
    start: int
    stop: int


class RemoteMessage(TypedDict):
    """An rclone remote as a job carries it (worker_wing/release/remotes.py)."""

    type: str
    options: dict[str, str]


class ReleaseDestination(TypedDict):
    name: str
    remote: RemoteMessage
    path: str


class ReleaseJobMessage(TypedDict):
    kind: str
    version: int
    transaction_id: int
    attempt: int
    challenge: str
    sequence: int
    participant: str | None
    due_at: str
    source: ReleaseSource
    rows: ReleaseRows
    format: str
    destination: ReleaseDestination


class ReleaseResult(TypedDict):
    transaction_id: int | None
    attempt: int | None
    ok: bool
    worker: str
    duration_seconds: NotRequired[float]
    # A failure: why, and whether a retry could help.
    transient: NotRequired[bool]
    error: NotRequired[str]
    failure_kind: NotRequired[str]
    # A success: what landed where, and how it was checked.
    bytes: NotRequired[int]
    rows: NotRequired[int]
    md5: NotRequired[str]
    sha256: NotRequired[str]
    verified: NotRequired[str]
    remote_path: NotRequired[str]


def release_failure(
    job: ReleaseJobMessage,
    failure: JobFailure,
    *,
    worker: str,
    duration_seconds: float | None = None,
) -> ReleaseResult:
    """A release job's result when it failed (the one place that shape is built)."""
    result: ReleaseResult = {
        "transaction_id": job.get("transaction_id"),
        "attempt": job.get("attempt"),
        "ok": False,
        "transient": failure.transient,
        "error": failure.reason,
        "failure_kind": failure.kind,
        "worker": worker,
    }
    if duration_seconds is not None:
        result["duration_seconds"] = round(duration_seconds, 3)
    return result


# --- judge (judge and judge-<name> queues) ---------------------------------------
class JudgeCode(TypedDict):
    sha256: str
    filename: str
    kind: str


class JudgeData(TypedDict):
    train_sha256: str
    test_features_sha256: str
    target_column: str
    id_column: str


class JudgeCv(TypedDict):
    folds: int
    seed: int


class JudgeLimits(TypedDict):
    cpu_seconds: int
    memory_mb: int
    wall_seconds: int
    processes: int
    file_mb: int


class JudgeJobMessage(TypedDict):
    kind: str
    version: int
    submission_id: int
    attempt: int
    code: JudgeCode
    # One run plan per configuration (worker_wing/pipeline/plan.py writes them).
    plans: list[dict[str, Any]]
    batch_size: int
    config_sha256: str
    queue: str
    participant: str
    data: JudgeData
    task_type: str
    metric: str
    cv: JudgeCv
    limits: JudgeLimits
    threads: int
    # A reproduction's job is its submission's, plus the reproduction it reports to.
    reproduction_id: NotRequired[int]


class JudgeFold(TypedDict):
    index: int
    score: float
    fit_seconds: float
    predict_seconds: float
    cpu_seconds: float
    peak_memory_mb: float


class JudgeMeasured(TypedDict):
    """A run's totals as measured from outside the sandbox (its cgroup, the clock)."""

    cpu_seconds: float
    peak_memory_mb: float
    wall_seconds: float
    stdout_tail: str
    stderr_tail: str
    provenance: dict[str, Any]


class JudgeResult(TypedDict):
    submission_id: int | None
    attempt: int | None
    ok: bool
    transient: bool
    reason: str
    worker: str
    # A failure's kind (FailureKind); results of older workers lack it.
    failure_kind: NotRequired[str]
    cpu_seconds: NotRequired[float]
    peak_memory_mb: NotRequired[float]
    wall_seconds: NotRequired[float]
    stdout_tail: NotRequired[str]
    stderr_tail: NotRequired[str]
    provenance: NotRequired[dict[str, Any]]
    # A scored run: its best configuration's folds and figures.
    folds: NotRequired[list[JudgeFold]]
    cv_mean: NotRequired[float]
    cv_std: NotRequired[float]
    fit_seconds: NotRequired[float]
    test_predictions: NotRequired[list[Any]]
    configurations: NotRequired[list[dict[str, Any]]]
    chosen: NotRequired[int]
    # A resource sweep's configurations the worker did not run, each with its reason.
    not_run: NotRequired[list[dict[str, Any]]]
    artifacts: NotRequired[dict[str, str]]
    # Added by the worker task of a reproduction.
    reproduction_id: NotRequired[int]


def judge_failure(job: JudgeJobMessage, failure: JobFailure) -> JudgeResult:
    """A judge job's result when it could not score (the one place that shape is built)."""
    result: JudgeResult = {
        "submission_id": job.get("submission_id"),
        "attempt": job.get("attempt"),
        "ok": False,
        "transient": failure.transient,
        "reason": failure.reason,
        "failure_kind": failure.kind,
        "worker": worker_name(),
    }
    if failure.measured is not None:
        result.update(failure.measured)
    return result


# --- probe (probe queue) ----------------------------------------------------------
class ProbeJobMessage(TypedDict):
    kind: str
    version: int
    probe_id: int
    endpoint_id: int
    scheduled_at: str
    url: str
    protocol: str
    model_name: str
    # "***" in the stored job, the endpoint's header in the message sent.
    auth_header: str
    columns: list[str]
    rows: list[list[Any]]
    allowed_networks: list[str]
    timeout_seconds: float
    max_response_bytes: int
    keep_exchange: bool


ProbeOutcome = Literal[
    "ok", "blocked", "unreachable", "timeout", "http_error", "redirect", "bad_response", "invalid"
]


class ProbeResult(TypedDict):
    """A probe's result; it has no `transient`: a probe is never tried again, its
    outcome (a student's endpoint down, slow, wrong) is the measurement."""

    probe_id: int | None
    endpoint_id: int | None
    started_at: str
    worker: str
    outcome: ProbeOutcome | Literal["lost"]
    detail: str
    http_status: int | None
    connect_ms: float | None
    total_ms: float | None
    predictions: list[Any] | None
    data_version: str
    # Only for a "check now": the request and answer as they went.
    exchange: NotRequired[dict[str, Any]]
