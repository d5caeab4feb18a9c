"""Logs that carry job ids: every record logged while a Celery task runs gets the
task's id and name and the ids of the job it works on (submission, transaction,
probe, endpoint, attempt), as fields of a JSON line (`LOG_FORMAT=json`) or a
bracketed prefix in plain text. So one grep, or one query in a log store, follows
a submission from the feeder through the judge worker to its recorded result.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from typing import Any

from celery.signals import task_postrun, task_prerun

JOB_KEYS = ("submission_id", "transaction_id", "probe_id", "endpoint_id", "attempt")
FIELDS = ("task_id", "task_name", *JOB_KEYS)

_job: ContextVar[dict[str, Any] | None] = ContextVar("ppipe_job", default=None)


def job_ids(args: tuple[Any, ...] | list[Any] | None) -> dict[str, Any]:
    """The ids found in a task's job or result argument (the first dict)."""
    for arg in args or ():
        if isinstance(arg, dict):
            return {key: arg[key] for key in JOB_KEYS if arg.get(key) is not None}
    return {}


@task_prerun.connect
def _bind_task(task_id: str = "", task: Any = None, args: Any = None, **_: Any) -> None:
    _job.set({"task_id": task_id, "task_name": getattr(task, "name", ""), **job_ids(args)})


@task_postrun.connect
def _unbind_task(**_: Any) -> None:
    _job.set(None)


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
        "filters": {"job": {"()": JobContextFilter}},
        "formatters": formatters,
        "handlers": {
            "console": {"class": "logging.StreamHandler", "formatter": fmt, "filters": ["job"]}
        },
        "root": {"handlers": ["console"], "level": level},
    }
