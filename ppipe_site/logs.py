"""Logs that carry job ids: the control side's processes log as the workers do
(worker_node/logs.py, which imports no Django so remote workers can use it)."""

from __future__ import annotations

from worker_node.logs import JobContextFilter, job_ids, json_formatter, logging_config

__all__ = ["JobContextFilter", "job_ids", "json_formatter", "logging_config"]
