"""Live endpoints end to end, with real processes: a student registers a model
server over the API; beat schedules probes; a probe worker (a thread pool, no
database, no labels) sends hidden test rows over HTTP; the control worker
scores and records them; the API and the leaderboard show uptime, latency,
score and freshness; "check now" shows the raw exchange."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings

from challenges.models import Challenge
from judging.leaderboard import leaderboard
from probing.models import Probe, ProbeState
from probing.services import scores_publish
from tests.probe_platform import probe_platform
from tests.probe_servers import iris_release, misbehaving_server, model_server, silent_server
from tests.processes import WorkerProcess
from tests.servers import wait_until
from tests.submissions import participants, published_challenge
from tests.test_api_challenges import token_client

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def probing_platform(transactional_db: None, settings: Any) -> Iterator[list[WorkerProcess]]:
    with probe_platform(settings) as workers:
        yield workers


def _challenge() -> Challenge:
    return published_challenge(
        probe_interval_seconds=2, probe_rows=8, probe_allowed_networks="127.0.0.0/8"
    )


def _done_probes(endpoint_id: int, count: int, workers: list[WorkerProcess]) -> list[Probe]:
    def recorded() -> bool:
        return Probe.objects.filter(endpoint_id=endpoint_id, state=ProbeState.DONE).count() >= count

    logs = "\n\n".join(worker.log_tail(20) for worker in workers)
    try:
        wait_until(recorded, timeout=60, what=f"{count} probes of endpoint {endpoint_id}")
    except TimeoutError as error:
        raise TimeoutError(f"{error}\n{logs}") from None
    return list(Probe.objects.filter(endpoint_id=endpoint_id, state=ProbeState.DONE))


def test_a_registered_endpoint_is_probed_scored_and_on_the_leaderboard(
    probing_platform: list[WorkerProcess], tmp_path: Path, settings: Any
) -> None:
    challenge = _challenge()
    ada, grace = participants(challenge, 2)
    iris_release(tmp_path / "releases", 1)
    with model_server(tmp_path / "releases") as good, silent_server() as silent:
        registered = token_client(ada.user).post(
            f"/api/challenges/{challenge.slug}/endpoints/",
            {"url": good, "protocol": "mlflow", "auth_header": "Authorization: Bearer s3cret"},
            format="json",
        )
        assert registered.status_code == 201, registered.json()
        assert registered.json()["auth_header_set"] is True
        assert "s3cret" not in registered.content.decode()
        broken = token_client(grace.user).post(
            f"/api/challenges/{challenge.slug}/endpoints/",
            {"url": silent, "protocol": "json"},
            format="json",
        )
        assert broken.status_code == 201

        probes = _done_probes(registered.json()["id"], 3, probing_platform)
        failures = _done_probes(broken.json()["id"], 2, probing_platform)
        # The live score is shown once published: publish now, as beat does at
        # each slot (every second here, over a probe's rows at least).
        settings.PPIPE_PROBE_SCORE_PUBLISH_SECONDS = 1
        settings.PPIPE_PROBE_SCORE_MIN_ROWS = 8
        scores_publish()
        # Read while the servers still run: beat keeps probing, and a probe after
        # the good server stopped would count against its uptime.

        assert {probe.outcome for probe in probes} == {"ok"}, [p.detail for p in probes]
        assert all(probe.score is not None and probe.score > 0.8 for probe in probes)
        assert all(probe.worker and probe.data_version == "1" for probe in probes)
        assert {probe.outcome for probe in failures} == {"timeout"}
        assert f"within {settings.PPIPE_PROBE_TIMEOUT_SECONDS} s" in failures[0].detail

        metrics = token_client(ada.user).get(f"/api/endpoints/{registered.json()['id']}/").json()
        assert metrics["metrics"]["uptime"] == 1.0
        # Above 0.8 measured, rounded to a step of 1/4 or 1/5 over a few probes' rows.
        assert metrics["metrics"]["score"] >= 0.75
        assert metrics["metrics"]["score_published_at"] is not None
        assert metrics["metrics"]["latency_p95_ms"] > 0
        assert metrics["metrics"]["freshness"]["data_version"] == "1"
        # Per-probe scores would leak the hidden labels.
        assert all("score" not in probe for probe in metrics["probes"])

        rows = {row.participant: row for row in leaderboard(challenge).rows}
        assert rows[ada.user.username].endpoint_uptime == 1.0
        assert rows[ada.user.username].endpoint_score == metrics["metrics"]["score"]
        assert rows[grace.user.username].endpoint_uptime == 0.0
        assert rows[grace.user.username].endpoint_sla == 0.0

    # The auth header went to the endpoint but never into a log.
    logs = "".join(worker.log_path.read_text(errors="replace") for worker in probing_platform)
    assert "s3cret" not in logs


def test_check_now_shows_the_raw_exchange_and_is_not_counted(
    probing_platform: list[WorkerProcess], tmp_path: Path, settings: Any
) -> None:
    settings.PPIPE_PROBE_CHECK_SECONDS = 60
    challenge = _challenge()
    challenge.probe_rules.probe_interval_seconds = 3600  # no scheduled probe during the test
    challenge.probe_rules.save()
    (ada,) = participants(challenge, 1)
    iris_release(tmp_path / "releases", 2)
    client = token_client(ada.user)
    with model_server(tmp_path / "releases", model_name="iris") as url:
        endpoint = client.post(
            f"/api/challenges/{challenge.slug}/endpoints/",
            {"url": url, "protocol": "v2", "model_name": "iris"},
            format="json",
        ).json()
        check = client.post(f"/api/endpoints/{endpoint['id']}/check/")
        again = client.post(f"/api/endpoints/{endpoint['id']}/check/")

    assert check.status_code == 200, check.json()
    body = check.json()
    assert body["outcome"] == "ok", body["detail"]
    assert body["exchange"]["request"]["url"].endswith("/v2/models/iris/infer")
    assert '"inputs"' in body["exchange"]["request"]["body"]
    assert '"outputs"' in body["exchange"]["response"]["body"]
    assert body["data_version"] == "2"
    assert "score" not in body
    assert again.status_code == 429
    assert "try again in" in again.json()["detail"]
    assert client.get(f"/api/endpoints/{endpoint['id']}/").json()["metrics"]["probes"] == 0


def test_another_students_endpoint_is_not_found(tmp_path: Path) -> None:
    challenge = _challenge()
    ada, grace = participants(challenge, 2)
    endpoint = token_client(ada.user).post(
        f"/api/challenges/{challenge.slug}/endpoints/",
        {"url": "http://model.example.org", "protocol": "json"},
        format="json",
    )

    for path in ("", "check/"):
        method = token_client(grace.user).post if path else token_client(grace.user).get
        response = method(f"/api/endpoints/{endpoint.json()['id']}/{path}")
        assert response.status_code == 404
    teacher = token_client(challenge.owner).get(f"/api/endpoints/{endpoint.json()['id']}/")
    assert teacher.status_code == 200
    assert teacher.json()["window_hours"] == settings.PPIPE_PROBE_WINDOW_HOURS


def test_a_bad_registration_gets_the_api_error_shape() -> None:
    challenge = _challenge()
    (ada,) = participants(challenge, 1)

    response = token_client(ada.user).post(
        f"/api/challenges/{challenge.slug}/endpoints/",
        {"url": "model:8080", "protocol": "v2"},
        format="json",
    )

    assert response.status_code == 400
    errors = response.json()["errors"]
    assert "http:// or https://" in errors["url"][0]
    assert "model's name" in errors["model_name"][0]


def test_misbehaving_endpoints_each_get_a_readable_status_and_the_worker_keeps_serving(
    probing_platform: list[WorkerProcess], tmp_path: Path
) -> None:
    challenge = published_challenge(
        probe_interval_seconds=2, probe_rows=4, probe_allowed_networks="127.0.0.0/8"
    )
    modes = ["garbage", "wrong count", "1 GB", "redirect to metadata", "flapping"]
    students = participants(challenge, len(modes) + 1)
    iris_release(tmp_path / "releases", 1)
    with ExitStack() as stack:
        endpoints = {}
        for mode, student in zip(modes, students, strict=False):
            url = stack.enter_context(misbehaving_server(mode))
            endpoints[mode] = (
                token_client(student.user)
                .post(
                    f"/api/challenges/{challenge.slug}/endpoints/",
                    {"url": url, "protocol": "json"},
                    format="json",
                )
                .json()["id"]
            )
        bad = {mode: _done_probes(endpoints[mode], 2, probing_platform) for mode in modes}
        # After all of that, a good endpoint is still probed and scored.
        good_url = stack.enter_context(model_server(tmp_path / "releases"))
        good = (
            token_client(students[-1].user)
            .post(
                f"/api/challenges/{challenge.slug}/endpoints/",
                {"url": f"{good_url}/predict", "protocol": "json"},
                format="json",
            )
            .json()["id"]
        )
        healthy = _done_probes(good, 2, probing_platform)

    def outcomes(mode: str) -> set[str]:
        return {probe.outcome for probe in bad[mode]}

    assert outcomes("garbage") == {"bad_response"}
    assert outcomes("wrong count") == {"bad_response"}
    assert outcomes("1 GB") == {"bad_response"}
    assert outcomes("redirect to metadata") == {"redirect"}
    assert "http_error" in outcomes("flapping")
    assert all(probe.detail for probes in bad.values() for probe in probes if probe.outcome != "ok")
    assert "not JSON" in bad["garbage"][0].detail
    assert "bytes" in bad["1 GB"][0].detail
    assert {probe.outcome for probe in healthy} == {"ok"}
