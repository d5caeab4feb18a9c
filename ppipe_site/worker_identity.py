"""How a worker names itself in what it reports (timelines, results, logs).

Inside a Celery task that is the worker's node name (`judge@lab-07`, as
ppipe-worker names it and Flower shows it), which is the host an operator chose,
not the container's or namespace's hostname; outside a task, the host name.
Importable without Django: executors use it.
"""

from __future__ import annotations

import os
import socket

from celery import current_task


def worker_name() -> str:
    request = getattr(current_task, "request", None)
    node = getattr(request, "hostname", None) if request is not None else None
    return f"{node or socket.gethostname()} pid {os.getpid()}"
