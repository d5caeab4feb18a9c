"""Executing one probe job: a pure function of the job; no database, no labels.

It resolves the endpoint's host and checks every address against the SSRF
policy, connects to the checked address (so the name is not resolved twice),
sends one batch of rows in the endpoint's protocol, and measures the TCP
connect and the whole exchange. The answer is read up to a size cap and a
deadline; redirects are never followed. Whatever happens ends as a result with
an outcome and a reason, never an exception: a probe worker keeps serving.
"""

from __future__ import annotations

import json
import ssl
import time
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any, Final
from urllib.parse import urljoin

import httpx

from worker_wing.jobs import ProbeJobMessage, ProbeOutcome, ProbeResult
from worker_wing.network_policy import AddressBlocked, parse_networks, resolve_target
from worker_wing.probe.protocols import (
    ResponseError,
    data_version_from,
    predictions_from,
    probe_url,
    request_body,
)
from worker_wing.worker_identity import worker_name

# The setting that opens a range to probes, named in a refusal.
OPENED_BY = "the challenge's probe_allowed_networks"
EXCERPT_BYTES = 4000


class Outcome:
    OK: Final = "ok"
    BLOCKED: Final = "blocked"
    UNREACHABLE: Final = "unreachable"
    TIMEOUT: Final = "timeout"
    HTTP_ERROR: Final = "http_error"
    REDIRECT: Final = "redirect"
    BAD_RESPONSE: Final = "bad_response"
    INVALID: Final = "invalid"


class _TooLarge(Exception):
    pass


class _TooSlow(Exception):
    pass


@lru_cache(maxsize=1)
def _tls_context() -> ssl.SSLContext:
    # Built once per process: loading the CA store costs milliseconds a probe
    # should not pay (nor measure).
    return ssl.create_default_context()


def _excerpt(data: bytes) -> str:
    text = data[:EXCERPT_BYTES].decode("utf-8", "replace")
    return text + (f"… ({len(data)} bytes)" if len(data) > EXCERPT_BYTES else "")


class _ConnectTimer:
    """httpx's trace hook: when the TCP connect started and completed."""

    def __init__(self) -> None:
        self.marks: dict[str, float] = {}

    def __call__(self, event: str, _info: dict[str, Any]) -> None:
        if event in ("connection.connect_tcp.started", "connection.connect_tcp.complete"):
            self.marks[event.rsplit(".", 1)[1]] = time.perf_counter()

    @property
    def milliseconds(self) -> float | None:
        if "started" in self.marks and "complete" in self.marks:
            return (self.marks["complete"] - self.marks["started"]) * 1000
        return None


def _read_capped(response: httpx.Response, cap: int, deadline: float) -> bytes:
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > cap:
            raise _TooLarge
        if time.perf_counter() > deadline:
            raise _TooSlow
        chunks.append(chunk)
    return b"".join(chunks)


def _address_url(url: httpx.URL, address: str) -> httpx.URL:
    host = f"[{address}]" if ":" in address else address
    return url.copy_with(host=host)


def execute_probe_job(job: ProbeJobMessage) -> ProbeResult:
    started_at = datetime.now(UTC)
    result: ProbeResult = {
        "probe_id": job.get("probe_id"),
        "endpoint_id": job.get("endpoint_id"),
        "started_at": started_at.isoformat(),
        "worker": worker_name(),
        "outcome": Outcome.INVALID,
        "detail": "",
        "http_status": None,
        "connect_ms": None,
        "total_ms": None,
        "predictions": None,
        "data_version": "",
    }
    exchange: dict[str, Any] = {}
    if job.get("keep_exchange"):
        result["exchange"] = exchange
    try:
        outcome, detail = _probe(job, result, exchange)
    except Exception as error:  # a bug of ours still ends as a recorded probe
        outcome, detail = Outcome.INVALID, f"internal error: {type(error).__name__}: {error}"
    result["outcome"], result["detail"] = outcome, detail
    return result


def _probe(
    job: ProbeJobMessage, result: ProbeResult, exchange: dict[str, Any]
) -> tuple[ProbeOutcome, str]:
    timeout, cap = float(job["timeout_seconds"]), int(job["max_response_bytes"])
    try:
        url = httpx.URL(probe_url(job["protocol"], job["url"], job.get("model_name", "")))
        if url.scheme not in ("http", "https") or not url.host:
            raise ValueError("the URL must start with http:// or https:// and name a host")
        body = json.dumps(request_body(job["protocol"], job["columns"], job["rows"])).encode()
        allowed = parse_networks(job.get("allowed_networks") or [])
    except (ValueError, TypeError, httpx.InvalidURL) as error:
        return Outcome.INVALID, str(error)
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        target = resolve_target(url.host, port, allowed, opened_by=OPENED_BY)
    except AddressBlocked as error:
        return Outcome.BLOCKED, str(error)
    except OSError as error:
        return Outcome.UNREACHABLE, str(error)
    headers = {
        "Host": url.netloc.decode("ascii"),
        "Content-Type": "application/json",
        "Accept": "application/json",
        "Accept-Encoding": "identity",
        "User-Agent": "ppipe-probe",
    }
    exchange["request"] = {
        "method": "POST",
        "url": str(url),
        "address": str(target.address),
        "headers": dict(headers),  # the auth header, a secret, is never shown
        "body": _excerpt(body),
    }
    if job.get("auth_header"):
        name, _, value = str(job["auth_header"]).partition(":")
        headers[name.strip()] = value.strip()
    deadline = time.perf_counter() + timeout
    transport = httpx.HTTPTransport(verify=_tls_context(), retries=0)
    connect = _ConnectTimer()
    with httpx.Client(transport=transport, timeout=timeout, follow_redirects=False) as client:
        began = time.perf_counter()
        try:
            with client.stream(
                "POST",
                _address_url(url, str(target.address)),
                content=body,
                headers=headers,
                extensions={"trace": connect, "sni_hostname": url.host},
            ) as response:
                data = _read_capped(response, cap, deadline)
        except _TooLarge:
            return Outcome.BAD_RESPONSE, f"the answer is larger than {cap} bytes"
        except (_TooSlow, httpx.TimeoutException):
            return Outcome.TIMEOUT, f"no complete answer within {timeout:g} s"
        except httpx.HTTPError as error:
            return Outcome.UNREACHABLE, f"{type(error).__name__}: {error}".rstrip(": ")
        ended = time.perf_counter()
    result["connect_ms"] = connect.milliseconds
    result["total_ms"] = (ended - began) * 1000
    result["http_status"] = response.status_code
    exchange["response"] = {
        "status": response.status_code,
        "headers": dict(response.headers),
        "body": _excerpt(data),
    }
    return _judge_answer(job, response, data, allowed, result)


def _judge_answer(
    job: ProbeJobMessage,
    response: httpx.Response,
    data: bytes,
    allowed: list[Any],
    result: ProbeResult,
) -> tuple[ProbeOutcome, str]:
    status = response.status_code
    if 300 <= status < 400:
        location = urljoin(str(job["url"]), response.headers.get("location", ""))
        detail = f"HTTP {status}: redirects are not followed; register the final URL ({location})"
        try:
            host = httpx.URL(location).host
            if host:
                resolve_target(host, httpx.URL(location).port or 80, allowed, opened_by=OPENED_BY)
        except AddressBlocked as error:
            detail += f"; and that target is blocked: {error}"
        except (OSError, httpx.InvalidURL):
            pass
        return Outcome.REDIRECT, detail
    if not 200 <= status < 300:
        return Outcome.HTTP_ERROR, f"HTTP {status}: {_excerpt(data)[:300]}"
    try:
        payload = json.loads(data)
    except ValueError:
        return Outcome.BAD_RESPONSE, f"the answer is not JSON: {_excerpt(data)[:200]!r}"
    try:
        result["predictions"] = predictions_from(job["protocol"], payload, len(job["rows"]))
    except ResponseError as error:
        return Outcome.BAD_RESPONSE, str(error)
    result["data_version"] = data_version_from(payload, dict(response.headers))
    return Outcome.OK, ""
