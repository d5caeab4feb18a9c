"""Where the admin's submissions list's CPU goes, part by part, at 10,000
submissions: the page as it is, then with parts of the admin's page around the
table switched off in this process (the navigation sidebar, the list filters),
to size each part; then cProfile over a few requests of the page as it is.

In-process (Django's test client, no server), as the load test's teacher; the
CPU of the web process and of its PostgreSQL backend, the mean of --repeat,
beside the challenge description's (the load test's baseline).

    .venv/bin/python bench/admin_list_parts.py [--repeat 40] [--top 40]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from harness import bench_platform
from leaderboard_latency import seed
from leaderboard_profile import measure


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--participants", type=int, default=300)
    parser.add_argument("--submissions", type=int, default=10_000)
    args = parser.parse_args()

    with bench_platform(PPIPE_LEADERBOARD_CACHE_SECONDS="0"):
        from django.contrib import admin
        from django.core.management import call_command
        from django.test import Client
        from rest_framework.authtoken.models import Token

        from judging.models import Submission

        call_command("collectstatic", interactive=False, verbosity=0)
        challenge = seed("large", args.participants, args.submissions)
        teacher_user = challenge.owner  # type: ignore[attr-defined]
        token = Token.objects.create(user=teacher_user).key
        api = Client(headers={"Authorization": f"Token {token}"}, HTTP_HOST="127.0.0.1")
        teacher = Client(HTTP_HOST="127.0.0.1")
        teacher.force_login(teacher_user)
        submissions = admin.site._registry[Submission]

        def get(client: Client, url: str) -> Callable[[], Any]:
            def request() -> Any:
                response = client.get(url)
                assert response.status_code == 200, (url, response.status_code)
                return response

            return request

        @contextmanager
        def switched(**attributes: tuple[Any, Any]) -> Iterator[None]:
            kept = {name: getattr(owner, name) for name, (owner, _) in attributes.items()}
            for name, (owner, value) in attributes.items():
                setattr(owner, name, value)
            try:
                yield
            finally:
                for name, (owner, _) in attributes.items():
                    setattr(owner, name, kept[name])

        description = get(api, "/api/challenges/large/")
        page = get(teacher, "/admin/judging/submission/")
        variants: dict[str, dict[str, tuple[Any, Any]]] = {
            "as it is": {},
            "no navigation sidebar": {
                "get_app_list": (admin.site, lambda request, app_label=None: []),
                "enable_nav_sidebar": (admin.site, False),
            },
            "no list filters": {"list_filter": (submissions, ())},
            "neither": {
                "get_app_list": (admin.site, lambda request, app_label=None: []),
                "enable_nav_sidebar": (admin.site, False),
                "list_filter": (submissions, ()),
            },
        }
        print(f"load average at the start: {os.getloadavg()}", flush=True)
        description()
        page()
        _, baseline = measure("baseline: description", description, args.repeat)
        for label, attributes in variants.items():
            with switched(**attributes):
                page()
                _, cpu = measure(f"admin: {label}", page, args.repeat)
            print(f"{'':24} cpu / baseline's {cpu / baseline:5.2f}", flush=True)
        print(f"load average at the end: {os.getloadavg()}", flush=True)
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(10):
            page()
        profiler.disable()
        for order in ("cumulative", "tottime"):
            out = io.StringIO()
            pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(args.top)
            print(out.getvalue())


if __name__ == "__main__":
    main()
