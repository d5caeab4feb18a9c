"""The rclone of a worker, as its settings configure it (address policy, user)."""

from __future__ import annotations

from django.conf import settings

from worker_wing.release.rclone import Rclone


def worker_rclone(*, timeout: float) -> Rclone:
    return Rclone(
        timeout=timeout,
        allowed_networks=settings.PPIPE_DESTINATION_ALLOWED_NETWORKS,
        run_as=settings.PPIPE_RCLONE_USER,
    )
