from __future__ import annotations

from celery import shared_task

from foundation.heartbeat import heartbeat_record


@shared_task(name="ppipe_site.tasks.record_heartbeat")
def record_heartbeat() -> str:
    return heartbeat_record().isoformat()
