"""How a worker names itself in what it reports (timelines, results, logs).

Inside a Celery task that is the worker's node name (`judge@lab-07`, as
ppipe-worker names it and Flower shows it), which is the host an operator chose,
not the container's or namespace's hostname; outside a task, the host name.
Celery is read only if the process already runs it: importing Celery loads parts
of Django, which the wing must not.
"""

from __future__ import annotations

import os
import socket
import sys
from datetime import UTC, datetime


def worker_name() -> str:
    celery = sys.modules.get("celery")
    task = getattr(celery, "current_task", None) if celery is not None else None
    request = getattr(task, "request", None) if task is not None else None
    node = getattr(request, "hostname", None) if request is not None else None
    return f"{node or socket.gethostname()} pid {os.getpid()}"


def now_reported() -> str:
    """The time a worker puts in a report, in its own clock (the control side
    compares it with its own: foundation/worker_clocks.py)."""
    return datetime.now(UTC).isoformat()
