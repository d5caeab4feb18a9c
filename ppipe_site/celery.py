"""The Celery application: configuration comes from Django settings (CELERY_*)."""

from __future__ import annotations

import os
from typing import Any

from celery import Celery
from celery.signals import beat_init

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ppipe_site.settings")

app = Celery("ppipe")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@beat_init.connect
def _register_periodic_tasks_on_beat_start(sender: Any = None, **_: Any) -> None:
    # Beat is the one process that runs the schedule: registering here means a
    # deployment can never run with a schedule older than its code.
    from ppipe_site.periodic import register_periodic_tasks

    register_periodic_tasks()
