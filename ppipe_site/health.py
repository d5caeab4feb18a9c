"""/healthz: is the platform able to work right now?

200 when the database and the broker answer, 503 naming what is down. The age
of the last heartbeat is reported but does not fail the check: right after a
start there is none yet, and a load balancer should not take the web server
out of service because beat is being restarted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from django.db import connection
from django.http import HttpRequest, JsonResponse

from foundation.celery import app
from foundation.heartbeat import heartbeat_last


@dataclass(frozen=True)
class Check:
    ok: bool
    error: str = ""

    def as_dict(self) -> dict[str, object]:
        return {"ok": self.ok, **({"error": self.error} if self.error else {})}


def _describe(error: Exception) -> str:
    # The class and message only: never the URL, which may carry a password.
    return f"{type(error).__name__}: {error}"[:300]


def check_database() -> Check:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as error:
        return Check(ok=False, error=_describe(error))
    return Check(ok=True)


def check_broker() -> Check:
    try:
        with app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=3)
    except Exception as error:
        return Check(ok=False, error=_describe(error))
    return Check(ok=True)


def heartbeat_age_seconds() -> float | None:
    try:
        last = heartbeat_last()
    except Exception:
        return None
    if last is None:
        return None
    return round((datetime.now(UTC) - last).total_seconds(), 1)


def healthz(request: HttpRequest) -> JsonResponse:
    checks = {"database": check_database(), "broker": check_broker()}
    down = [name for name, check in checks.items() if not check.ok]
    body: dict[str, object] = {
        "status": "down" if down else "ok",
        "down": down,
        "checks": {name: check.as_dict() for name, check in checks.items()},
        "heartbeat_age_seconds": heartbeat_age_seconds() if "broker" not in down else None,
    }
    return JsonResponse(body, status=503 if down else 200)
