"""A remote worker's settings, read from the environment without Django.

The same variables, defaults and checks as the control side's settings module
(ppipe_site/settings.py) for what a worker uses: the broker, the artifact store,
time limits, rclone's address policy and user, the sandbox. A test loads both
from one environment and compares them, so the two cannot drift apart. A bad
value stops the worker with a message naming the variable.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from worker_node.environ import Environ, EnvironError
from worker_wing.judge.sandbox import SandboxConfig
from worker_wing.network_policy import Network

BASE_DIR = Path(__file__).resolve().parent.parent
# A unix socket path must fit in sockaddr_un.sun_path (108 bytes with the NUL).
MAX_SOCKET_PATH = 107


class WorkerSettingsError(EnvironError):
    """An environment variable holds a value a worker cannot use."""


@dataclass(frozen=True)
class WorkerSettings:
    broker_url: str
    result_backend: str
    artifact_dir: Path
    log_level: str
    log_format: str
    task_soft_time_limit: int
    task_time_limit: int
    visibility_timeout: int
    # Releases (dispatch queue).
    dispatch_time_limit: int
    destination_allowed_networks: list[Network]
    rclone_user: str
    local_destination_roots: list[Path]
    # Judging (judge queues).
    judge_heartbeat_seconds: int
    sandbox: SandboxConfig

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> WorkerSettings:
        env = Environ(os.environ if environ is None else environ)
        var_dir = env.path("PPIPE_VAR_DIR", BASE_DIR / "var")
        broker_url = env.raw("CELERY_BROKER_URL") or _embedded_broker_url(var_dir)
        soft_limit = env.number("PPIPE_TASK_SOFT_TIME_LIMIT", 300, minimum=1)
        limit = env.number("PPIPE_TASK_TIME_LIMIT", 360, minimum=2)
        if limit <= soft_limit:
            raise WorkerSettingsError(
                "PPIPE_TASK_TIME_LIMIT must be greater than PPIPE_TASK_SOFT_TIME_LIMIT."
            )
        mode = env.text("PPIPE_SANDBOX", "bwrap").lower()
        if mode not in ("bwrap", "none"):
            raise WorkerSettingsError(f"PPIPE_SANDBOX must be 'bwrap' or 'none', not {mode!r}.")
        return cls(
            broker_url=broker_url,
            result_backend=env.raw("CELERY_RESULT_BACKEND") or broker_url,
            artifact_dir=env.path("PPIPE_ARTIFACT_DIR", var_dir / "artifacts"),
            log_level=env.text("LOG_LEVEL", "INFO"),
            log_format=env.choice("LOG_FORMAT", "plain", ("plain", "json")),
            task_soft_time_limit=soft_limit,
            task_time_limit=limit,
            visibility_timeout=env.number("PPIPE_VISIBILITY_TIMEOUT", 3 * 3600, minimum=60),
            dispatch_time_limit=env.number("PPIPE_DISPATCH_TIME_LIMIT", 900, minimum=1),
            destination_allowed_networks=env.networks("PPIPE_DESTINATION_ALLOWED_NETWORKS"),
            rclone_user=env.text("PPIPE_RCLONE_USER", "ppipe-release"),
            local_destination_roots=env.paths(
                "PPIPE_LOCAL_DESTINATION_ROOTS", [var_dir / "releases"]
            ),
            judge_heartbeat_seconds=env.number("PPIPE_JUDGE_HEARTBEAT_SECONDS", 10, minimum=1),
            sandbox=SandboxConfig(
                mode=mode,
                prewarm=env.flag("PPIPE_SANDBOX_PREWARM", True),
                bwrap=env.text("PPIPE_BWRAP", "/usr/bin/bwrap"),
                tmpfs_mb=env.number("PPIPE_SANDBOX_TMPFS_MB", 512, minimum=16),
                jobs_per_sandbox=env.number("PPIPE_SANDBOX_JOBS", 100, minimum=1),
                kept_boxes=env.number("PPIPE_SANDBOX_KEPT", 32, minimum=1),
                work_root=str(env.path("PPIPE_JUDGE_WORK_DIR", Path(tempfile.gettempdir()))),
                user=env.text("PPIPE_SANDBOX_USER", "ppipe-sandbox"),
                cgroup_root=env.text("PPIPE_CGROUP_ROOT", ""),
            ),
        )


def _embedded_broker_url(var_dir: Path) -> str:
    # The Redis that `make run` starts on this machine (foundation/embedded.py).
    path = var_dir / "redis.sock"
    if len(str(path)) > MAX_SOCKET_PATH:
        raise WorkerSettingsError(
            f"The embedded Redis socket path {path} is longer than {MAX_SOCKET_PATH} bytes: "
            "set PPIPE_VAR_DIR to a shorter folder, or CELERY_BROKER_URL to a Redis server."
        )
    return f"redis+socket://{path}"
