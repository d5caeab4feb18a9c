"""Logs that carry job ids: every record logged while a Celery task runs gets the
task's id and name and the ids of the job it works on (submission, transaction,
probe, endpoint, attempt), as fields of a JSON line (`LOG_FORMAT=json`) or a
bracketed prefix in plain text. So one grep, or one query in a log store, follows
a submission from the feeder through the judge worker to its recorded result.

Periodic ticks are quiet: beat sends a dozen ticks every few seconds, and a line
for each (sent, received, succeeded, and whatever the tick itself logs at INFO)
drowned everything else in `make run`. Those records are demoted to DEBUG, so
`LOG_LEVEL=DEBUG` shows them again; a tick's warnings and failures stay as they are.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from contextvars import ContextVar
from typing import Any

from celery.signals import task_postrun, task_prerun

JOB_KEYS = ("submission_id", "transaction_id", "probe_id", "endpoint_id", "attempt")
FIELDS = ("task_id", "task_name", *JOB_KEYS)

_job: ContextVar[dict[str, Any] | None] = ContextVar("ppipe_job", default=None)
# Tasks whose "received" and "succeeded" lines are routine, and (a subset) those
# whose own lines are too (the periodic ticks). Filled by the control side when a
# worker starts: this module cannot read Django's schedule.
_routine_tasks: set[str] = set()
_ticks: set[str] = set()
# Whether the task running in this thread is a periodic tick.
_tick: ContextVar[bool] = ContextVar("ppipe_tick", default=False)
_BEAT_SENDING = "Scheduler: Sending due task"


def quiet_routine_tasks(names: Iterable[str], *, own_lines: bool) -> None:
    """Log these tasks' "received" and "succeeded" lines at DEBUG, and with
    `own_lines` (the periodic ticks) every INFO line they log while running too;
    a task whose own line says it all (a mail sent) keeps that line."""
    names = set(names)
    _routine_tasks.update(names)
    if own_lines:
        _ticks.update(names)


def job_ids(args: tuple[Any, ...] | list[Any] | None) -> dict[str, Any]:
    """The ids found in a task's job or result argument (the first dict)."""
    for arg in args or ():
        if isinstance(arg, dict):
            return {key: arg[key] for key in JOB_KEYS if arg.get(key) is not None}
    return {}


@task_prerun.connect
def _bind_task(task_id: str = "", task: Any = None, args: Any = None, **_: Any) -> None:
    _job.set({"task_id": task_id, "task_name": getattr(task, "name", ""), **job_ids(args)})
    _tick.set(getattr(task, "name", "") in _ticks)


@task_postrun.connect
def _unbind_task(**_: Any) -> None:
    _job.set(None)
    _tick.set(False)


def _is_routine(record: logging.LogRecord) -> bool:
    if record.levelno != logging.INFO:
        return False
    if record.name == "celery.beat":
        return str(record.msg).startswith(_BEAT_SENDING)
    # Celery's own "received" and "succeeded" lines carry the task's name in their args.
    if isinstance(record.args, Mapping) and record.args.get("name") in _routine_tasks:
        return True
    return _tick.get()


class QuietTicksFilter(logging.Filter):
    """Demotes the routine INFO lines of periodic ticks to DEBUG, and drops them
    unless the root logger's level (LOG_LEVEL) lets DEBUG through."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not _is_routine(record):
            return True
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        return logging.getLogger().getEffectiveLevel() <= logging.DEBUG


class JobContextFilter(logging.Filter):
    """Adds the running task's ids to each record, and `job`, a printable prefix."""

    def filter(self, record: logging.LogRecord) -> bool:
        bound = _job.get() or {}
        for field in FIELDS:
            setattr(record, field, bound.get(field))
        shown = " ".join(f"{key}={value}" for key, value in bound.items() if value is not None)
        record.job = f"[{shown}] " if shown else ""
        return True


def json_formatter() -> logging.Formatter:
    """One JSON object a line: time, level, logger, message, and the job's ids."""
    from pythonjsonlogger.core import RESERVED_ATTRS
    from pythonjsonlogger.json import JsonFormatter

    fields = " ".join(f"%({field})s" for field in ("asctime", "levelname", "name", "message"))
    return JsonFormatter(
        f"{fields} " + " ".join(f"%({field})s" for field in FIELDS),
        rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
        reserved_attrs=[*RESERVED_ATTRS, "job"],
    )


def logging_config(level: str, fmt: str) -> dict[str, Any]:
    """Django's LOGGING: one console handler, plain or JSON, with job ids."""
    formatters = {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(job)s%(message)s"},
        "json": {"()": json_formatter},
    }
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"job": {"()": JobContextFilter}, "quiet_ticks": {"()": QuietTicksFilter}},
        "formatters": formatters,
        "handlers": {
            "console": {
                "class": "logging.StreamHandler",
                "formatter": fmt,
                "filters": ["quiet_ticks", "job"],
            }
        },
        "root": {"handlers": ["console"], "level": level},
        # A line per HTTP request (every probe) is for debugging only.
        "loggers": {"httpx": {"level": "DEBUG" if level.upper() == "DEBUG" else "WARNING"}},
    }
