"""The API's throttles count in the broker's Redis, so every web process sees the
same tries: join codes guessed through this process leave none to another
process (a fresh interpreter, as a second gunicorn worker is). And a throttle
whose Redis does not answer lets the request through instead of failing it."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
from django.conf import settings as django_settings

from foundation.shared_cache import ForgivingRedisCache
from tests.factories import StudentFactory
from tests.processes import process_env
from tests.servers import patience
from tests.submissions import published_challenge
from tests.test_api_challenges import token_client

SECOND_PROCESS = textwrap.dedent("""
    import json, sys, types, django
    django.setup()
    from foundation.throttles import join_code_wait
    user = types.SimpleNamespace(pk=int(sys.argv[1]), is_authenticated=True)
    request = types.SimpleNamespace(user=user, META={"REMOTE_ADDR": "127.0.0.1"})
    print(json.dumps(join_code_wait(request, count=False)))
""")


@pytest.mark.django_db
def test_tries_counted_in_one_process_leave_none_to_another() -> None:
    challenge = published_challenge(join_code="owls-2026")
    student = StudentFactory()
    client = token_client(student)
    rate = django_settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["join_code"]
    tries = int(rate.split("/")[0])
    for n in range(tries):
        client.post(f"/api/challenges/{challenge.slug}/join/", {"code": f"g{n}"}, format="json")

    other = subprocess.run(
        [sys.executable, "-c", SECOND_PROCESS, str(student.pk)],
        env={
            **process_env(),
            "PPIPE_THROTTLE_KEY_PREFIX": django_settings.CACHES["throttles"]["KEY_PREFIX"],
        },
        capture_output=True,
        text=True,
        timeout=60 * patience(),
        check=True,
    )

    assert json.loads(other.stdout.splitlines()[-1]) > 0


def test_an_unreachable_redis_lets_the_request_through() -> None:
    dead = ForgivingRedisCache("redis://127.0.0.1:1/0", {"OPTIONS": {"socket_connect_timeout": 1}})

    dead.set("tries", [1.0, 2.0], 60)

    assert dead.get("tries", []) == []
