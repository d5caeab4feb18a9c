"""Real HTTP servers on loopback for probe tests: ppipe's model server (a
scikit-learn model in all three protocols) and endpoints that misbehave the
ways deployed models do."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
from sklearn.datasets import load_iris

from probing.model_server import ModelKeeper, serve
from tests.servers import free_port, stop_process, wait_until
from worker_wing.jobs import ProbeJobMessage

LOOPBACK = ["127.0.0.0/8"]


def unreachable_probe_job(probe_id: int, endpoint_id: int, port: int) -> ProbeJobMessage:
    """A probe of a loopback port nothing listens on: it ends unreachable, quickly."""
    return {
        "kind": "probe",
        "version": 1,
        "probe_id": probe_id,
        "endpoint_id": endpoint_id,
        "scheduled_at": "2026-01-01T00:00:00+00:00",
        "url": f"http://127.0.0.1:{port}/predict",
        "protocol": "json",
        "model_name": "",
        "auth_header": "",
        "columns": ["x"],
        "rows": [[1.0]],
        "allowed_networks": LOOPBACK,
        "timeout_seconds": 2,
        "max_response_bytes": 2**20,
        "keep_exchange": False,
    }


def iris_release(folder: Path, sequence: int = 1) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    frame = load_iris(as_frame=True).frame.rename(columns={"target": "species"})
    frame["species"] = frame["species"].map(dict(enumerate(["setosa", "versicolor", "virginica"])))
    path = folder / f"release-{sequence:03d}.csv"
    frame.to_csv(path, index=False)
    return path


@contextmanager
def running(server: ThreadingHTTPServer) -> Iterator[str]:
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        yield f"http://{host}:{port}"
    finally:
        server.shutdown()
        server.server_close()


@contextmanager
def model_server(releases: Path, model_name: str = "iris") -> Iterator[str]:
    keeper = ModelKeeper(releases, "species", [], regression=False)
    keeper.refresh()
    with running(serve(keeper, "127.0.0.1", 0, model_name)) as url:
        yield url


@contextmanager
def model_server_process(releases: Path, *arguments: str) -> Iterator[str]:
    """`python -m probing.model_server` as a student starts it, on a free loopback port."""
    port = free_port()
    command = [sys.executable, "-m", "probing.model_server", "--releases", str(releases)]
    log = releases.parent / f"model-server-{port}.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            [*command, *arguments, "--port", str(port)], stdout=output, stderr=output
        )
    url = f"http://127.0.0.1:{port}"

    def answers() -> bool:
        assert process.poll() is None, log.read_text()
        try:
            return httpx.get(f"{url}/health", timeout=2).status_code == 200
        except httpx.TransportError:
            return False

    try:
        wait_until(answers, timeout=120, what="the model server to answer")
        yield url
    finally:
        stop_process(process)


class Misbehaving(BaseHTTPRequestHandler):
    """What a broken endpoint does, chosen by the server's `mode`."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _reply(self, status: int, body: bytes, **headers: str) -> None:
        self.send_response(status)
        for name, value in {"Content-Length": str(len(body)), **headers}.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        mode = self.server.mode  # type: ignore[attr-defined]
        self.server.calls += 1  # type: ignore[attr-defined]
        rows = 4
        if mode == "echo auth":
            if self.headers.get("X-Api-Key") == "open-sesame":
                self._reply(200, json.dumps({"predictions": ["setosa"] * rows}).encode())
            else:
                self._reply(401, b"missing key")
        elif mode == "slow":
            time.sleep(3)
            self._reply(200, json.dumps({"predictions": ["setosa"] * rows}).encode())
        elif mode == "flapping":
            if self.server.calls % 2:  # type: ignore[attr-defined]
                self._reply(503, b"warming up")
            else:
                self._reply(200, json.dumps({"predictions": ["setosa"] * rows}).encode())
        elif mode == "garbage":
            self._reply(200, b"<html>Internal error</html>", **{"Content-Type": "text/html"})
        elif mode == "wrong count":
            self._reply(200, json.dumps({"predictions": ["setosa"]}).encode())
        elif mode == "redirect to metadata":
            self._reply(302, b"", Location="http://169.254.169.254/latest/meta-data/")
        elif mode == "1 GB":
            self.send_response(200)
            self.send_header("Content-Length", str(2**30))
            self.end_headers()
            chunk = b"[" * 2**16
            try:
                for _ in range(2**14):
                    self.wfile.write(chunk)
            except OSError:
                pass  # the probe hung up, as it should


@contextmanager
def misbehaving_server(mode: str) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Misbehaving)
    server.daemon_threads = True
    server.mode = mode  # type: ignore[attr-defined]
    server.calls = 0  # type: ignore[attr-defined]
    with running(server) as url:
        yield url


@contextmanager
def silent_server() -> Iterator[str]:
    """Accepts connections (the kernel does) and never answers."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
