"""A release worker is not an SSRF proxy: a destination whose host is the
platform itself, a private network or a metadata address is refused on the
worker after DNS, with no request sent; and where an operator has opened a
network, what the remote answered never comes back in the teacher's error."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from rest_framework.test import APIClient

from dispatch.models import Destination
from tests.factories import TeacherFactory
from tests.release_jobs import release_job, store_training_data
from tests.servers import LOOPBACK
from worker_wing.content_store import ContentStore
from worker_wing.network_policy import parse_networks
from worker_wing.release.executor import execute_release_job
from worker_wing.release.rclone import Rclone

LOOT = "db_password=hunter2-from-the-inside"


@contextmanager
def _answering(host: str, answer: Callable[[BaseHTTPRequestHandler], None]) -> Iterator[int]:
    """An HTTP server on `host` whose every request, whatever its method, gets `answer`."""

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            answer(self)

        do_GET = do_PUT = do_HEAD = do_PROPFIND = do_MKCOL = do_POST = _answer

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer((host, 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def inside_service() -> Iterator[tuple[int, list[str]]]:
    """A service only the worker's network reaches, answering every request with loot."""
    requests: list[str] = []

    def loot(handler: BaseHTTPRequestHandler) -> None:
        requests.append(f"{handler.command} {handler.path}")
        handler.send_response(500)
        handler.send_header("Content-Length", str(len(LOOT)))
        handler.end_headers()
        handler.wfile.write(LOOT.encode())

    with _answering("127.0.0.1", loot) as port:
        yield port, requests


def _release_to(tmp_path: Path, remote: dict[str, object], rclone: Rclone) -> dict[str, object]:
    digest = store_training_data(tmp_path / "artifacts")
    job = release_job(digest, remote=remote, path="course/r.csv")
    return execute_release_job(
        job, artifacts=ContentStore(tmp_path / "artifacts"), rclone=rclone, local_roots=None
    )


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:{port}/healthz?",
        "http://localhost:{port}/",
        "http://[::ffff:127.0.0.1]:{port}/",
    ],
)
def test_a_webdav_destination_on_the_platform_itself_is_refused_unsent(
    tmp_path: Path, inside_service: tuple[int, list[str]], url: str
) -> None:
    port, requests = inside_service
    remote = {"type": "webdav", "options": {"url": url.format(port=port)}}

    result = _release_to(tmp_path, remote, Rclone())

    assert result["ok"] is False
    assert result["transient"] is False
    assert "loopback address" in str(result["error"])
    assert "PPIPE_DESTINATION_ALLOWED_NETWORKS" in str(result["error"])
    assert requests == []


@pytest.mark.parametrize(
    ("backend", "options", "why"),
    [
        ("s3", {"provider": "Other", "endpoint": "http://169.254.169.254/"}, "metadata"),
        ("s3", {"provider": "Other", "endpoint": "100.100.100.200"}, "metadata"),
        ("sftp", {"host": "10.0.0.5"}, "private address"),
        ("ftp", {"host": "100.64.1.1"}, "not a globally routable address"),
        ("swift", {"auth": "http://[2002:7f00:1::1]/v3"}, "embeds 127.0.0.1"),
    ],
)
def test_private_and_metadata_hosts_are_refused(
    tmp_path: Path, backend: str, options: dict[str, str], why: str
) -> None:
    result = _release_to(tmp_path, {"type": backend, "options": options}, Rclone())

    assert result["ok"] is False
    assert why in str(result["error"])


def test_an_opened_network_is_reached_but_its_answer_is_not_echoed(
    tmp_path: Path, inside_service: tuple[int, list[str]]
) -> None:
    port, requests = inside_service
    remote = {"type": "webdav", "options": {"url": f"http://127.0.0.1:{port}/dav"}}

    result = _release_to(tmp_path, remote, Rclone(allowed_networks=LOOPBACK))

    assert requests  # the operator opened loopback: the worker did connect
    assert result["ok"] is False
    assert "HTTP 500" in str(result["error"])
    assert "hunter2" not in str(result["error"])
    assert "db_password" not in str(result["error"])


def test_a_redirect_to_an_internal_address_is_not_followed(
    tmp_path: Path, inside_service: tuple[int, list[str]]
) -> None:
    inside_port, inside_requests = inside_service

    def redirect_inside(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(307)
        handler.send_header("Location", f"http://127.0.0.1:{inside_port}{handler.path}")
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    # A server on a network the operator opened (127.0.0.2 only), pointing elsewhere.
    with _answering("127.0.0.2", redirect_inside) as port:
        remote = {"type": "webdav", "options": {"url": f"http://127.0.0.2:{port}/"}}
        opened = Rclone(allowed_networks=parse_networks("127.0.0.2/32"))
        result = _release_to(tmp_path, remote, opened)

    assert result["ok"] is False
    assert "the address policy refused it" in str(result["error"])
    assert inside_requests == []


@pytest.mark.django_db
def test_the_api_refuses_a_host_that_is_an_internal_address_already() -> None:
    client = APIClient()
    client.force_authenticate(TeacherFactory())
    body = {
        "name": "metadata",
        "type": "s3",
        "path": "bucket",
        "params": {"provider": "Other", "endpoint": "http://169.254.169.254/latest/"},
    }

    response = client.post("/api/destinations/", body, format="json")

    assert response.status_code == 400
    assert "a cloud metadata address" in " ".join(response.json()["errors"]["params"])
    assert not Destination.objects.exists()
