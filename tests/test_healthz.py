"""/healthz answers 200 when the database and the broker work, 503 naming what is down."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import httpx
import pytest
from django.test import Client

from tests.servers import RedisServer, free_port, stop_process, wait_until


@pytest.mark.django_db
def test_healthz_is_200_when_database_and_broker_answer(client: Client) -> None:
    response = client.get("/healthz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["checks"] == {"database": {"ok": True}, "broker": {"ok": True}}


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    server = RedisServer().start()
    yield server
    server.stop()


@pytest.mark.django_db
def test_healthz_is_503_naming_the_broker_when_redis_stops(
    client: Client, own_redis: RedisServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Celery reads CELERY_BROKER_URL from the environment before its configuration.
    monkeypatch.setenv("CELERY_BROKER_URL", own_redis.url)
    assert client.get("/healthz").status_code == 200

    own_redis.stop()
    response = client.get("/healthz")

    assert response.status_code == 503
    assert response.json()["down"] == ["broker"]
    assert response.json()["checks"]["database"] == {"ok": True}


def test_healthz_is_503_naming_the_database_when_postgres_is_unreachable() -> None:
    port, dead_port = free_port(), free_port()
    env = {
        **__import__("os").environ,
        "DJANGO_SETTINGS_MODULE": "ppipe_site.settings",
        "DATABASE_URL": f"postgresql://nobody@127.0.0.1:{dead_port}/nothing",
    }
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "ppipe_site.wsgi", "--bind", f"127.0.0.1:{port}"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}/healthz"

        def answers() -> bool:
            try:
                httpx.get(url, timeout=5)
            except httpx.TransportError:
                return False
            return True

        wait_until(answers, timeout=30, what="gunicorn")
        response = httpx.get(url, timeout=10)
    finally:
        stop_process(server)

    assert response.status_code == 503
    assert response.json()["down"] == ["database"]
    assert "password" not in response.text
