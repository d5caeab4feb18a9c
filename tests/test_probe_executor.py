"""The probe executor against real HTTP servers on loopback: ppipe's model
server in each protocol, and endpoints that misbehave the ways deployed models
do. Each case ends as a result with an outcome and a reason, never an
exception, and a probe never goes where the policy forbids."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sklearn.datasets import load_iris

from tests.probe_servers import (
    LOOPBACK,
    iris_release,
    misbehaving_server,
    model_server,
    silent_server,
)
from worker_wing.probe.executor import execute_probe_job

SPECIES = {"setosa", "versicolor", "virginica"}


def _job(url: str, protocol: str = "json", rows: int = 4, **changes: Any) -> dict[str, Any]:
    frame = load_iris(as_frame=True).frame.drop(columns=["target"])
    chosen = frame.iloc[:: len(frame) // rows][:rows]
    return {
        "probe_id": 1,
        "endpoint_id": 1,
        "url": url,
        "protocol": protocol,
        "model_name": "iris",
        "auth_header": "",
        "columns": list(chosen.columns),
        "rows": chosen.to_numpy().tolist(),
        "allowed_networks": LOOPBACK,
        # Far from a loopback answer's time, even on a loaded machine: only the tests
        # of the timeout itself set one that can be reached.
        "timeout_seconds": 30,
        "max_response_bytes": 2**20,
        "keep_exchange": True,
        **changes,
    }


@pytest.fixture(scope="module")
def iris_server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    releases = tmp_path_factory.mktemp("releases")
    iris_release(releases, 3)
    with model_server(releases) as url:
        yield url


@pytest.mark.parametrize(("protocol", "path"), [("mlflow", ""), ("v2", ""), ("json", "/predict")])
def test_each_protocol_gets_one_prediction_per_row_and_the_data_version(
    iris_server: str, protocol: str, path: str
) -> None:
    result = execute_probe_job(_job(iris_server + path, protocol))

    assert result["outcome"] == "ok", result["detail"]
    assert len(result["predictions"]) == 4
    assert set(result["predictions"]) <= SPECIES
    assert result["data_version"] == "3"
    assert result["http_status"] == 200
    assert 0 < result["connect_ms"] <= result["total_ms"]


def test_the_exchange_is_kept_for_a_check_without_the_auth_header(iris_server: str) -> None:
    job = _job(iris_server + "/predict", auth_header="Authorization: Bearer s3cret-token")

    result = execute_probe_job(job)

    assert result["outcome"] == "ok", result["detail"]
    exchange = result["exchange"]
    assert exchange["request"]["url"].endswith("/predict")
    assert '"instances"' in exchange["request"]["body"]
    assert exchange["response"]["status"] == 200
    assert '"predictions"' in exchange["response"]["body"]
    assert "s3cret-token" not in repr(result)


def test_loopback_is_blocked_unless_the_challenge_allows_it(iris_server: str) -> None:
    result = execute_probe_job(_job(iris_server + "/predict", allowed_networks=[]))

    assert result["outcome"] == "blocked"
    assert "127.0.0.1 is a loopback address" in result["detail"]
    assert "probe_allowed_networks" in result["detail"]
    assert result["http_status"] is None


def test_a_name_resolving_to_loopback_is_blocked_too(iris_server: str) -> None:
    url = iris_server.replace("127.0.0.1", "localhost") + "/predict"

    result = execute_probe_job(_job(url, allowed_networks=[]))

    assert result["outcome"] == "blocked"
    assert "loopback" in result["detail"]


@pytest.mark.parametrize(
    ("url", "protocol", "says"),
    [
        ("ftp://example.org/model", "json", "http:// or https://"),
        ("http://127.0.0.1:1/", "carrier-pigeon", "unknown protocol"),
        ("http://127.0.0.1:1/", "v2", "needs the model's name"),
    ],
)
def test_a_job_that_cannot_be_probed_says_what_to_fix(url: str, protocol: str, says: str) -> None:
    result = execute_probe_job(_job(url, protocol, model_name=""))

    assert result["outcome"] == "invalid"
    assert says in result["detail"]


def test_a_closed_port_is_unreachable() -> None:
    with silent_server() as url:
        closed = url  # the listener closes when the block ends
    result = execute_probe_job(_job(closed))

    assert result["outcome"] == "unreachable"
    assert result["detail"]


def test_a_server_that_never_answers_times_out_at_the_deadline() -> None:
    with silent_server() as url:
        result = execute_probe_job(_job(url, timeout_seconds=0.5))

    assert result["outcome"] == "timeout"
    assert "within 0.5 s" in result["detail"]


def test_a_slow_answer_past_the_timeout_is_a_timeout() -> None:
    with misbehaving_server("slow") as url:
        result = execute_probe_job(_job(url, timeout_seconds=1))

    assert result["outcome"] == "timeout"


def test_an_answer_that_is_not_json_is_a_bad_response_with_an_excerpt() -> None:
    with misbehaving_server("garbage") as url:
        result = execute_probe_job(_job(url))

    assert result["outcome"] == "bad_response"
    assert "not JSON" in result["detail"]
    assert "Internal error" in result["detail"]
    assert result["http_status"] == 200


def test_the_wrong_number_of_predictions_is_a_bad_response() -> None:
    with misbehaving_server("wrong count") as url:
        result = execute_probe_job(_job(url, rows=4))

    assert result["outcome"] == "bad_response"
    assert "1 predictions for 4 rows" in result["detail"]
    assert result["predictions"] is None


def test_an_error_status_is_recorded_with_the_body() -> None:
    with misbehaving_server("flapping") as url:
        first, second = execute_probe_job(_job(url)), execute_probe_job(_job(url))

    assert first["outcome"] == "http_error"
    assert first["http_status"] == 503
    assert "warming up" in first["detail"]
    assert second["outcome"] == "ok"


def test_a_redirect_is_not_followed_and_a_blocked_target_is_named() -> None:
    with misbehaving_server("redirect to metadata") as url:
        result = execute_probe_job(_job(url))

    assert result["outcome"] == "redirect"
    assert "redirects are not followed" in result["detail"]
    assert "169.254.169.254 is a cloud metadata address" in result["detail"]


def test_a_huge_answer_is_cut_off_at_the_cap(tmp_path: Path) -> None:
    with misbehaving_server("1 GB") as url:
        result = execute_probe_job(_job(url, max_response_bytes=2**20))

    assert result["outcome"] == "bad_response"
    assert f"larger than {2**20} bytes" in result["detail"]


def test_the_auth_header_reaches_the_endpoint(tmp_path: Path) -> None:
    with misbehaving_server("echo auth") as url:
        without = execute_probe_job(_job(url))
        with_header = execute_probe_job(_job(url, auth_header="X-Api-Key: open-sesame"))

    assert without["outcome"] == "http_error"
    assert without["http_status"] == 401
    assert with_header["outcome"] == "ok", with_header["detail"]
