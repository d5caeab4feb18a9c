"""Every connection rclone makes to a teacher's destination goes through here.

Checking a destination's host before the upload is not enough: rclone's HTTP
client follows redirects (a public WebDAV server answering 307 to
http://127.0.0.1:8000/ made the worker send its requests to the platform), a
name can resolve differently the second time, and Swift and B2 servers hand
back the URLs rclone uses next. So the daemon that talks to remote hosts is
given this proxy (`--http-proxy` for HTTP backends, the `http_proxy` option for
SFTP and FTP), which resolves every host it is asked for, checks every address
against the policy (worker_wing/network_policy.py) and connects to the checked
address itself. It listens on loopback only and answers only the daemon that
holds its password.
No Django here: dispatch workers use this module.
"""

from __future__ import annotations

import base64
import contextlib
import secrets
import socket
import socketserver
import threading
from urllib.parse import urlsplit

from worker_wing.network_policy import AddressBlocked, Network, resolve_target
from worker_wing.release.destination_addresses import OPENED_BY

_MAX_HEAD = 64 * 1024
_CONNECT_TIMEOUT = 15.0
# The reason phrase of a refusal: rclone quotes it, and rclone_errors tells the teacher.
REFUSED_REASON = "Blocked By Address Policy"
# Hop-by-hop headers of the client's request that must not reach the server.
_DROPPED = (b"proxy-authorization", b"proxy-connection", b"connection", b"keep-alive")


class _Refused(Exception):
    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status


def _read_head(sock: socket.socket, buffer: bytes = b"") -> tuple[bytes, bytes]:
    """Bytes up to the blank line ending a head, and whatever came after it."""
    while b"\r\n\r\n" not in buffer:
        chunk = sock.recv(65536)
        if not chunk:
            raise _Refused("400 Bad Request")
        buffer += chunk
        if len(buffer) > _MAX_HEAD:
            raise _Refused("431 Request Header Fields Too Large")
    head, _, rest = buffer.partition(b"\r\n\r\n")
    return head, rest


def _without_hop_headers(lines: list[bytes]) -> list[bytes]:
    return [line for line in lines if line.split(b":")[0].strip().lower() not in _DROPPED]


def _split_host_port(authority: str, default_port: int) -> tuple[str, int]:
    parts = urlsplit(f"//{authority}")
    try:
        port = parts.port or default_port
    except ValueError:
        raise _Refused("400 Bad Request") from None
    if not parts.hostname:
        raise _Refused("400 Bad Request")
    return parts.hostname, port


def _pump(source: socket.socket, target: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while chunk := source.recv(65536):
            target.sendall(chunk)
    with contextlib.suppress(OSError):
        target.shutdown(socket.SHUT_WR)


def _final_head_with_close(upstream: socket.socket, client: socket.socket) -> None:
    """Pass the server's interim (1xx) heads on, then its final head with
    `Connection: close`: each request of ours gets its own connection, so a
    kept-alive one can never carry the next request to another host."""
    rest = b""
    while True:
        head, rest = _read_head(upstream, rest)
        lines = head.split(b"\r\n")
        status = lines[0].split(b" ", 2)
        if len(status) > 1 and status[1].startswith(b"1"):
            client.sendall(head + b"\r\n\r\n")
            continue
        kept = _without_hop_headers(lines[1:])
        client.sendall(b"\r\n".join([lines[0], *kept, b"Connection: close", b"", b""]) + rest)
        return


class EgressProxy:
    """An HTTP proxy on 127.0.0.1 that connects only where the address policy allows."""

    def __init__(self, allowed: list[Network]) -> None:
        self.allowed = allowed
        self.password = secrets.token_urlsafe(18)
        self._expected = b"Basic " + base64.b64encode(f"ppipe:{self.password}".encode())
        proxy = self

        class Handler(socketserver.BaseRequestHandler):
            def handle(self) -> None:
                proxy._serve(self.request)

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://ppipe:{self.password}@127.0.0.1:{self.server.server_address[1]}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _connect(self, host: str, port: int) -> socket.socket:
        try:
            target = resolve_target(host, port, self.allowed, opened_by=OPENED_BY)
        except AddressBlocked:
            raise _Refused(f"403 {REFUSED_REASON}") from None
        except OSError:
            raise _Refused("502 Bad Gateway") from None
        try:
            return socket.create_connection((str(target.address), port), _CONNECT_TIMEOUT)
        except OSError:
            raise _Refused("502 Bad Gateway") from None

    def _serve(self, client: socket.socket) -> None:
        upstream = None
        try:
            head, rest = _read_head(client)
            lines = head.split(b"\r\n")
            request = lines[0].decode("latin-1").split(" ")
            if len(request) != 3:
                raise _Refused("400 Bad Request")
            method, target, version = request
            headers = {
                name.strip().lower(): value.strip()
                for name, _, value in (line.partition(b":") for line in lines[1:])
            }
            if not secrets.compare_digest(headers.get(b"proxy-authorization", b""), self._expected):
                raise _Refused("407 Proxy Authentication Required")
            if method == "CONNECT":
                upstream = self._connect(*_split_host_port(target, 443))
                client.sendall(f"{version} 200 Connection established\r\n\r\n".encode())
                if rest:
                    upstream.sendall(rest)
            else:
                url = urlsplit(target)
                if url.scheme != "http":
                    raise _Refused("400 Bad Request")
                upstream = self._connect(*_split_host_port(url.netloc, 80))
                path = url.path or "/"
                kept = _without_hop_headers(lines[1:])
                first = f"{method} {path}{'?' + url.query if url.query else ''} {version}"
                upstream.sendall(
                    b"\r\n".join([first.encode("latin-1"), *kept, b"Connection: close", b"", b""])
                    + rest
                )
                sending = threading.Thread(target=_pump, args=(client, upstream), daemon=True)
                sending.start()
                _final_head_with_close(upstream, client)
                _pump(upstream, client)
                return
            sending = threading.Thread(target=_pump, args=(client, upstream), daemon=True)
            sending.start()
            _pump(upstream, client)
            sending.join(timeout=_CONNECT_TIMEOUT)
        except _Refused as refused:
            with contextlib.suppress(OSError):
                client.sendall(f"HTTP/1.1 {refused.status}\r\nContent-Length: 0\r\n\r\n".encode())
        except OSError:
            pass
        finally:
            for sock in (upstream, client):
                if sock is not None:
                    with contextlib.suppress(OSError):
                        sock.close()
