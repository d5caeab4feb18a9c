"""Executing one judge job: a pure function of the job, the artifact store and the
sandbox settings; it touches no database and never sees the hidden labels.

It fetches and verifies the inputs (cached by digest), computes the folds,
runs the student code in a sandbox (worker_wing.judge.sandbox), then, on the trusted side,
checks the predictions, scores each fold and bags the fold models' test
predictions (vote, or mean for regression) as RAMP does. A student's fault is a
result with `ok: False` and a reason they can act on, never an exception.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import importlib.metadata
import json
import logging
import math
import platform
import signal
import subprocess
import threading
from datetime import UTC, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sklearn

from worker_wing.content_store import ContentStore
from worker_wing.failure_kinds import limit_kind
from worker_wing.jobs import (
    FailureKind,
    JobFailure,
    JudgeFold,
    JudgeJobMessage,
    JudgeLimits,
    JudgeMeasured,
    JudgeResult,
    judge_failure,
)
from worker_wing.judge.job_format import job_plans
from worker_wing.judge.job_inputs import (
    DataShape,
    cached_input,
    data_shape,
    features_file,
    fold_labels,
    stage_inputs,
)
from worker_wing.judge.metrics import get_metric
from worker_wing.judge.outside_figures import measured_configuration
from worker_wing.judge.predictions import (
    FoldPredictions,
    PredictionsError,
    bag,
    out_of_fold,
    read_fold_predictions,
)
from worker_wing.judge.resource_sweep import (
    NotRun,
    core_groups,
    merged_run,
    not_runnable,
    worker_cores,
)
from worker_wing.judge.run_artifacts import run_artifacts
from worker_wing.judge.runner_fold import (
    ISOLATION_EXIT,
    ISOLATION_FAILED,
    NO_GET_ESTIMATOR_EXIT,
    STEP_ERROR_EXIT,
)
from worker_wing.judge.runner_steps import MAX_MODEL_BYTES
from worker_wing.judge.sandbox import (
    JobRun,
    Sandbox,
    sandbox_prewarm,
    sandbox_release,
    sandbox_take,
)
from worker_wing.judge.sandbox_command import SandboxConfig, SandboxUnavailable, check_bwrap
from worker_wing.judge.traceback_folding import fold_runner_frames
from worker_wing.pipeline.check import extract_pipeline_archive
from worker_wing.pipeline.spec import PipelineRejected
from worker_wing.worker_identity import worker_name

logger = logging.getLogger(__name__)

# What a run that failed by the student's code is, unless it names a limit.
STUDENT = FailureKind.STUDENT_ERROR
SIGNAL_REASONS: dict[int, str] = {
    signal.SIGXCPU: "CPU time limit of {cpu_seconds} s exceeded",
    # RLIMIT_CPU's hard limit, one second past the soft one (a memory kill by the
    # cgroup is reported by the worker before this is read).
    signal.SIGKILL: "CPU time limit of {cpu_seconds} s exceeded",
    signal.SIGXFSZ: "a file or the output grew past the limit of {file_mb} MB",
}


@lru_cache(maxsize=4)
def _sandbox_problem(config: SandboxConfig) -> str:
    if config.mode == "none":
        return ""
    try:
        check_bwrap(config)
    except SandboxUnavailable as error:
        return str(error)
    return ""


@lru_cache(maxsize=4)
def _sandbox_version(config: SandboxConfig) -> str:
    if config.mode == "none":
        return "none"
    done = subprocess.run([config.bwrap, "--version"], capture_output=True, check=False)
    return done.stdout.decode().strip() or "bwrap"


def _last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""


def _isolation_failed(report: dict[str, Any]) -> bool:
    return int(report["exit_code"]) == ISOLATION_EXIT and str(report["phase"]).startswith(
        ISOLATION_FAILED
    )


def _crash_reason(report: dict[str, Any], run: JobRun, limits: JudgeLimits) -> str:
    """Why the student's process ended without its predictions."""
    code, signal_number = int(report["exit_code"]), int(report["signal"])
    phase = report["phase"] or "start-up"
    if run.processes_refused:
        return f"process limit of {limits['processes']} processes reached during {phase}"
    if signal_number:
        template = SIGNAL_REASONS.get(signal_number)
        if template:
            return template.format(**limits)
        return f"the submission's process was killed by signal {signal_number} during {phase}"
    if code == STEP_ERROR_EXIT:
        return str(phase)
    if code == NO_GET_ESTIMATOR_EXIT:
        return (
            "estimator.py has no get_estimator(): define it at the top level, returning an "
            "object with fit(X, y) and predict(X)"
        )
    error = _last_line(report["stderr_tail"])
    if "MemoryError" in error:
        return f"memory limit of {limits['memory_mb']} MB exceeded (MemoryError during {phase})"
    if "File too large" in error:
        return SIGNAL_REASONS[signal.SIGXFSZ].format(**limits) + f" (during {phase})"
    if "BlockingIOError" in error or "Resource temporarily unavailable" in error:
        return f"process limit of {limits['processes']} processes reached during {phase}"
    if code == 1 and error:
        return f"{phase} raised {error} (see stderr)"
    return (
        f"the submission's process exited (code {code}) during {phase} before it finished: "
        "os._exit or sys.exit inside your code?"
    )


@lru_cache(maxsize=1)
def installed_packages() -> tuple[str, ...]:
    """Every distribution installed where the job runs, as `name==version`, sorted."""
    found = {
        f"{dist.metadata['Name'].lower()}=={dist.version}"
        for dist in importlib.metadata.distributions()
        if dist.metadata["Name"]
    }
    return tuple(sorted(found))


def judge_prewarm(sandbox: SandboxConfig) -> None:
    """What a judge process does once before its first job, without waiting for it:
    start its nursery (for one thread, the default; a job asking for more starts its
    own) and list the installed packages every result names."""
    threading.Thread(target=installed_packages, name="installed-packages", daemon=True).start()
    try:
        sandbox_prewarm(sandbox, 1)
    except (SandboxUnavailable, OSError) as error:
        # The first job says so, as its failure's reason.
        logger.warning("the judge's sandbox could not be started ahead of a job: %s", error)


def _provenance(job: JudgeJobMessage, sandbox: SandboxConfig, started_at: str) -> dict[str, Any]:
    packages = installed_packages()
    return {
        "python": platform.python_version(),
        "packages": {
            "numpy": np.__version__,
            "pandas": pd.__version__,
            "scikit-learn": sklearn.__version__,
        },
        # The whole installed set: two runs with the same digest ran the same code.
        "packages_sha256": hashlib.sha256("\n".join(packages).encode()).hexdigest(),
        "installed": list(packages),
        "sandbox": _sandbox_version(sandbox),
        "worker": worker_name(),
        "host": platform.node(),
        "code_sha256": job["code"]["sha256"],
        "train_sha256": job["data"]["train_sha256"],
        "test_features_sha256": job["data"]["test_features_sha256"],
        "config_sha256": job.get("config_sha256", ""),
        "cv_seed": job["cv"]["seed"],
        "configurations": [plan.get("configuration") or {} for plan in job_plans(job)],
        "started_at": started_at,
        "ended_at": datetime.now(UTC).isoformat(),
    }


def _submission_files(job: JudgeJobMessage, code: bytes, target: Path) -> None:
    """The student's files, as the sandbox reads them: estimator.py, or the zip's files.

    Raises PipelineRejected for a zip that breaks the upload rules (it passed them
    at upload, so only a forged job gets here)."""
    target.mkdir(mode=0o755)
    if job["code"].get("kind", "estimator") == "pipeline":
        extract_pipeline_archive(code, target)
    else:
        (target / "estimator.py").write_bytes(code)


def execute_judge_job(
    job: JudgeJobMessage, *, artifacts: ContentStore, sandbox: SandboxConfig
) -> JudgeResult:
    """Judge one job; a run that could not score ends as a result saying why
    (worker_wing.jobs.judge_failure), never as an exception."""
    try:
        return _judge(job, artifacts=artifacts, sandbox=sandbox)
    except JobFailure as failure:
        return judge_failure(job, failure)


def _judge(job: JudgeJobMessage, *, artifacts: ContentStore, sandbox: SandboxConfig) -> JudgeResult:
    problem = _sandbox_problem(sandbox)
    if problem:
        raise JobFailure(
            f"this judge worker cannot sandbox student code: {problem}; install bubblewrap, or "
            "set PPIPE_SANDBOX=none to run it unsandboxed (trusted code only)",
            transient=True,
            kind=FailureKind.SANDBOX,
        )
    started_at = datetime.now(UTC).isoformat()
    data, limits, threads = job["data"], job["limits"], int(job.get("threads") or 1)
    cache = Path(sandbox.work_root) / "ppipe-judge-cache"
    try:
        code = artifacts.read_bytes(job["code"]["sha256"])
        train_path = cached_input(artifacts, data["train_sha256"], cache)
        test_path = cached_input(artifacts, data["test_features_sha256"], cache)
        shape = data_shape(
            train_path,
            test_path,
            data["target_column"],
            job["task_type"],
            int(job["cv"]["folds"]),
            int(job["cv"]["seed"]),
        )
    except (OSError, ValueError, KeyError) as error:
        raise JobFailure(
            f"the job's inputs are not readable here: {error}",
            transient=True,
            kind=FailureKind.INFRASTRUCTURE,
        ) from None
    # A sandbox runs one participant's jobs only: nothing another student did in it
    # can touch theirs.
    participant = str(job.get("participant") or f"submission-{job.get('submission_id')}")
    try:
        features = features_file(train_path, data["target_column"])
        labels = fold_labels(train_path, shape, json.dumps([data, job["task_type"], job["cv"]]))
        box = sandbox_take(sandbox, threads, participant)
    except (OSError, ValueError, KeyError, SandboxUnavailable) as error:
        raise JobFailure(
            f"the sandbox could not start: {error}", transient=True, kind=FailureKind.SANDBOX
        ) from None
    run: JobRun | None = None
    rejected = ""
    all_plans = job_plans(job)
    skipped = not_runnable(
        all_plans, cores=worker_cores(), confine_problem=box.cgroup.cpu_limit_problem()
    )
    not_run = {skip.index for skip in skipped}
    plans = [plan for index, plan in enumerate(all_plans) if index not in not_run]
    try:
        stage_inputs(box.input_dir, features=features, test=test_path, shape=shape, labels=labels)
        _submission_files(job, code, box.input_dir / "submission")
        spec = {
            "limits": limits,
            "target_column": data["target_column"],
            "id_column": data["id_column"],
            "kind": job["code"].get("kind", "estimator"),
            "plans": plans,
            "batch_size": int(job.get("batch_size") or 0),
        }
        if plans:
            run = _run_by_cores(box, spec, participant)
        else:
            rejected = "no configuration of the sweep can run on this judge worker: " + (
                "; ".join(f"configuration {n.index + 1} {n.reason}" for n in skipped)
            )
    except PipelineRejected as error:
        rejected = str(error)
    finally:
        # Nothing ran when the zip was rejected: the sandbox is as clean as it was.
        sandbox_release(box, healthy=bool(rejected) or (run is not None and run.report is not None))
    if rejected or run is None:
        raise JobFailure(rejected, transient=False, kind=FailureKind.STUDENT_ERROR)
    if run.killed_for:
        during = f" (during {run.phase})" if run.phase else ""
        measured = _measured(job, run, sandbox, started_at, {})
        # The sandbox words each limit it stops a job at (sandbox.py's _limit_reason).
        kind = limit_kind(run.killed_for) or FailureKind.STUDENT_ERROR
        raise JobFailure(run.killed_for + during, transient=False, kind=kind, measured=measured)
    if run.refused:
        raise JobFailure(run.refused, transient=False, kind=FailureKind.STUDENT_ERROR)
    if run.report is None:
        reason = f"the sandbox ended without a report: {run.trouble}"
        raise JobFailure(reason, transient=True, kind=FailureKind.SANDBOX)
    return _result(job, run, shape, sandbox, artifacts, started_at, plans, skipped)


def _run_by_cores(box: Sandbox, spec: dict[str, Any], participant: str) -> JobRun:
    """The job's configurations run in the box, those of one core count at a time in
    the box's cgroup confined to those cores; one run (as before) when none asks for
    cores. A part that did not end with every configuration's report ends the job."""
    runs: list[JobRun] = []
    spent = (0.0, 0.0)
    for cores, indexes in core_groups(spec["plans"]):
        part = {**spec, "plans": [spec["plans"][index] for index in indexes]}
        run = box.run(part, participant, cores=cores, spent=spent)
        ran = (run.report or {}).get("configurations")
        if run.report is None or not isinstance(ran, list) or len(ran) != len(indexes):
            return run
        runs.append(run)
        spent = (spent[0] + run.cpu_seconds, spent[1] + run.wall_seconds)
    return merged_run(runs)


def _number(value: Any) -> float:
    """A figure of the sandbox's report (written by untrusted code's process): finite or refused."""
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{value!r} is not a finite number")
    return number


def _fold_rows(fold: dict[str, Any], index: int, score: float) -> JudgeFold:
    return {
        "index": index,
        "score": score,
        "fit_seconds": _number(fold["fit_seconds"]),
        "predict_seconds": _number(fold["predict_seconds"]),
        "cpu_seconds": _number(fold["cpu_seconds"]),
        "peak_memory_mb": _number(fold["peak_memory_mb"]),
    }


def _step_rows(configuration: dict[str, Any], plan: dict[str, Any]) -> list[dict[str, Any]]:
    measured = {str(step["name"]): step for step in configuration["steps"]}
    rows = []
    for planned in plan["steps"]:
        step = measured[planned["name"]]
        latency = step["latency"]
        rows.append(
            {
                "name": planned["name"],
                "target": f"{planned['file']}:{planned['callable']}",
                "level": int(planned["level"]),
                "fit_seconds": _number(step["fit_seconds"]),
                "cpu_seconds": _number(step["cpu_seconds"]),
                "peak_memory_mb": _number(step["peak_memory_mb"]),
                "latency_p50_ms": _number(latency["p50_ms"]),
                "latency_p95_ms": _number(latency["p95_ms"]),
            }
        )
    return rows


def _scored_configuration(
    configuration: dict[str, Any],
    plan: dict[str, Any],
    predicted: list[FoldPredictions],
    shape: DataShape,
    metric_name: str,
    job_batch_size: int,
) -> dict[str, Any]:
    """One configuration's folds scored against the training labels, and its costs.

    Raises PredictionsError for predictions that cannot be scored, and KeyError,
    TypeError or ValueError for a report not shaped as the runner writes it."""
    metric = get_metric(metric_name)
    folds = []
    for fold, validation, predictions in zip(
        configuration["folds"], shape.folds, predicted, strict=True
    ):
        index = int(fold["index"])
        try:
            score = metric.score(shape.y.iloc[validation].to_numpy(), predictions.validation)
        except (TypeError, ValueError) as error:
            raise PredictionsError(
                f"predictions for fold {index} cannot be scored: {error}"
            ) from None
        folds.append(_fold_rows(fold, index, score))
    scores = [fold["score"] for fold in folds]
    latency = configuration["latency"]
    # Rows predicted over the folds (each fold's validation rows and the test set), in
    # the time prediction took as the fold's window bounds it (outside_figures.py).
    rows = sum(len(validation) for validation in shape.folds) + len(folds) * shape.test_rows
    predicting = sum(_number(fold["predict_seconds"]) for fold in configuration["folds"])
    walls = [_number(fold["ended"]) - _number(fold["started"]) for fold in configuration["folds"]]
    return {
        "configuration": dict(plan.get("configuration") or {}),
        # What the sandbox was granted: its cgroup's CPUs (None: not confined).
        "cores": int(plan["cores"]) if plan.get("cores") else None,
        "batch_size": int(plan.get("batch_size", job_batch_size) or 0),
        "wall_seconds": sum(max(0.0, wall) for wall in walls),
        "throughput_rows_per_second": rows / predicting if predicting > 0 else 0.0,
        "cv_mean": float(np.mean(scores)),
        "cv_std": float(np.std(scores)),
        "fit_seconds": sum(fold["fit_seconds"] for fold in folds),
        "cpu_seconds": sum(fold["cpu_seconds"] for fold in folds),
        "peak_memory_mb": max(fold["peak_memory_mb"] for fold in folds),
        "latency_p50_ms": _number(latency["p50_ms"]),
        "latency_p95_ms": _number(latency["p95_ms"]),
        "batches": int(latency["batches"]),
        "folds": folds,
        "steps": _step_rows(configuration, plan),
    }


def _fitted_models(report: dict[str, Any], count: int) -> list[bytes]:
    """Each configuration's pickled fitted steps (empty when too large or unpicklable)."""
    try:
        data = base64.b64decode(str(report.get("models") or ""), validate=True)
    except binascii.Error:
        return [b""] * count
    models, offset = [], 0
    for _ in range(count):
        size = int.from_bytes(data[offset : offset + 8], "little")
        models.append(data[offset + 8 : offset + 8 + size] if size <= MAX_MODEL_BYTES else b"")
        offset += 8 + size
    return models


def _measured(
    job: JudgeJobMessage,
    run: JobRun,
    sandbox: SandboxConfig,
    started_at: str,
    report: dict[str, Any],
    clamped: list[str] | None = None,
) -> JudgeMeasured:
    """The run's totals, measured from outside (the cgroup, the worker's clock)."""
    provenance = _provenance(job, sandbox, started_at)
    if clamped:
        provenance["clamped"] = clamped
    return {
        "cpu_seconds": run.cpu_seconds,
        "peak_memory_mb": run.peak_memory_mb,
        "wall_seconds": run.wall_seconds,
        "stdout_tail": str(report.get("stdout_tail") or ""),
        # The student's own frames first: the runner's fold into one line.
        "stderr_tail": fold_runner_frames(str(report.get("stderr_tail") or "")),
        "provenance": provenance,
    }


def _result(
    job: JudgeJobMessage,
    run: JobRun,
    shape: DataShape,
    sandbox: SandboxConfig,
    artifacts: ContentStore,
    started_at: str,
    plans: list[dict[str, Any]],
    skipped: list[NotRun],
) -> JudgeResult:
    report = run.report or {}
    measured = _measured(job, run, sandbox, started_at, report)
    ran = report.get("configurations")
    try:
        if _isolation_failed(report):
            # The worker's fault, not the student's: another worker may do better.
            reason = f"this judge worker could not sandbox the job: {report['phase']}"
            raise JobFailure(reason, transient=True, kind=FailureKind.SANDBOX, measured=measured)
        if report.get("figures_error"):
            reason = (
                f"the run's figures for {report['figures_error']} are not as the judge's "
                "runner writes them: did your code write to its files or patch it?"
            )
            raise JobFailure(reason, transient=False, kind=STUDENT, measured=measured)
        if not isinstance(ran, list) or len(ran) != len(plans):
            crash = _crash_reason(report, run, job["limits"])
            kind = limit_kind(crash) or STUDENT
            raise JobFailure(crash, transient=False, kind=kind, measured=measured)
        clamped: list[str] = []
        ran = [
            measured_configuration(
                configuration,
                run.samples,
                cpu_seconds=run.cpu_seconds,
                peak_memory_mb=run.peak_memory_mb,
                clamped=clamped,
            )
            for configuration in ran
        ]
    except (KeyError, TypeError, ValueError, IndexError) as error:
        reason = f"the sandbox's report is not as the judge writes it ({error!r})"
        raise JobFailure(reason, transient=False, kind=STUDENT, measured=measured) from None
    measured = _measured(job, run, sandbox, started_at, report, clamped)
    task_type = job["task_type"]
    try:
        predicted = read_fold_predictions(
            base64.b64decode(str(report.get("predictions") or ""), validate=True),
            [len(validation) for validation in shape.folds],
            shape.test_rows,
            task_type,
            configurations=len(plans),
        )
    except binascii.Error:
        reason = "the sandbox's report carries no readable predictions"
        raise JobFailure(
            reason, transient=True, kind=FailureKind.SANDBOX, measured=measured
        ) from None
    except PredictionsError as error:
        raise JobFailure(str(error), transient=False, kind=STUDENT, measured=measured) from None
    per_configuration = len(shape.folds)
    try:
        scored = [
            _scored_configuration(
                configuration,
                plan,
                predicted[k * per_configuration : (k + 1) * per_configuration],
                shape,
                job["metric"],
                int(job.get("batch_size") or 0),
            )
            for k, (configuration, plan) in enumerate(zip(ran, plans, strict=True))
        ]
    except PredictionsError as error:
        raise JobFailure(str(error), transient=False, kind=STUDENT, measured=measured) from None
    except (KeyError, TypeError, ValueError, IndexError) as error:
        reason = f"the sandbox's report is not as the judge writes it ({error!r}): was it forged?"
        raise JobFailure(reason, transient=False, kind=STUDENT, measured=measured) from None
    # A sweep's result is its best configuration by cross-validation, never by the
    # hidden test set: the student learns nothing of the test labels from the choice.
    chosen = max(range(len(scored)), key=lambda k: (scored[k]["cv_mean"], -k))
    chosen_test = predicted[chosen * per_configuration : (chosen + 1) * per_configuration]
    test_predictions = bag([p.test for p in chosen_test], task_type)
    best = scored[chosen]
    stored = run_artifacts(
        artifacts,
        job=job,
        test_predictions=test_predictions,
        report=report,
        model=_fitted_models(report, len(plans))[chosen],
        provenance=measured["provenance"],
        out_of_fold=out_of_fold([p.validation for p in chosen_test], shape.folds, len(shape.y)),
    )
    return {
        "submission_id": job.get("submission_id"),
        "attempt": job.get("attempt"),
        "ok": True,
        "transient": False,
        "reason": "",
        "worker": worker_name(),
        "folds": best["folds"],
        "cv_mean": best["cv_mean"],
        "cv_std": best["cv_std"],
        "fit_seconds": best["fit_seconds"],
        "test_predictions": test_predictions.tolist(),
        "configurations": [
            {key: value for key, value in row.items() if key != "folds"} for row in scored
        ],
        "chosen": chosen,
        # A resource sweep's configurations this worker could not run, and why.
        "not_run": [
            {
                "configuration": dict(all_plan.get("configuration") or {}),
                "cores": all_plan.get("cores"),
                "batch_size": all_plan.get("batch_size", job.get("batch_size") or 0),
                "reason": not_run.reason,
            }
            for not_run in skipped
            for all_plan in [job_plans(job)[not_run.index]]
        ],
        "artifacts": stored,
        **measured,
    }
