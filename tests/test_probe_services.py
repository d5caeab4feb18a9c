"""Endpoints and probes on the control side, against the real database:
registering with clear errors, scheduling on each endpoint's phase, recording
each result once and scored against the hidden labels, reaping probes no
worker answered, and the metrics the leaderboard shows."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from challenges.models import Challenge, Participant
from challenges.selectors import hidden_labels
from dispatch.models import Release, Transaction, TransactionState
from probing.models import Endpoint, Probe, ProbeState
from probing.selectors import endpoint_metrics
from probing.services import (
    endpoint_register,
    probe_lease,
    probe_record_result,
    probes_reap,
    probes_schedule,
)
from tests.factories import DestinationFactory
from tests.submissions import participants, published_challenge

pytestmark = pytest.mark.django_db


class RecordingSender:
    """Stands in for the broker where only the database rules are under test."""

    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def __call__(self, job: dict[str, Any]) -> None:
        self.sent.append(job)


@pytest.fixture
def challenge() -> Challenge:
    return published_challenge(probe_interval_seconds=60, probe_rows=8, latency_sla_ms=200)


@pytest.fixture
def student(challenge: Challenge) -> Participant:
    return participants(challenge, 1)[0]


def _register(participant: Participant, **fields: str) -> Endpoint:
    values = {"url": "http://model.example.org/predict", "protocol": "json", **fields}
    return endpoint_register(participant=participant, **values)[0]


@pytest.mark.parametrize(
    ("fields", "field", "says"),
    [
        ({"url": "model.example.org"}, "url", "write http:// or https://"),
        ({"url": "file:///etc/passwd"}, "url", "write http:// or https://"),
        ({"protocol": "grpc"}, "protocol", "use one of mlflow, v2, json"),
        ({"protocol": "v2"}, "model_name", "needs the model's name"),
        ({"auth_header": "Bearer abc"}, "auth_header", '"Name: value"'),
        ({"auth_header": "X-Key: a\r\nHost: evil"}, "auth_header", '"Name: value"'),
    ],
)
def test_a_bad_registration_says_what_to_fix_and_saves_nothing(
    student: Participant, fields: dict[str, str], field: str, says: str
) -> None:
    with pytest.raises(ValidationError) as raised:
        _register(student, **fields)

    assert says in " ".join(raised.value.message_dict[field])
    assert not Endpoint.objects.exists()


def test_registering_again_changes_the_one_endpoint(student: Participant) -> None:
    first = _register(student)
    second, created = endpoint_register(
        participant=student,
        url="https://other.example.org",
        protocol="v2",
        model_name="clf",
        auth_header="Authorization: Bearer x",
    )

    assert not created
    assert second.id == first.id
    assert Endpoint.objects.get().url == "https://other.example.org"
    assert second.next_probe_at == first.next_probe_at  # its phase is kept


def test_a_first_probe_falls_within_one_interval(student: Participant) -> None:
    before = timezone.now()
    endpoint = _register(student)

    assert endpoint.next_probe_at is not None
    assert before <= endpoint.next_probe_at <= before + timedelta(seconds=60)


def test_due_endpoints_get_one_probe_each_on_their_phase(
    challenge: Challenge, django_capture_on_commit_callbacks: Any
) -> None:
    first, second = participants(challenge, 2)
    now = timezone.now()
    due, later = _register(first), _register(second, auth_header="X-Key: s3cret")
    slot = now + timedelta(seconds=2)
    Endpoint.objects.filter(id=due.id).update(next_probe_at=slot)
    Endpoint.objects.filter(id=later.id).update(next_probe_at=now + timedelta(seconds=40))
    send = RecordingSender()

    with django_capture_on_commit_callbacks(execute=True):
        # Not before its slot: the message carries no time for a probe host to obey.
        assert probes_schedule(send=send, now=now) == 0
        assert probes_schedule(send=send, now=slot) == 1
        assert probes_schedule(send=send, now=slot + timedelta(seconds=1)) == 0

    (job,) = send.sent
    assert job["endpoint_id"] == due.id
    due.refresh_from_db()
    assert due.next_probe_at == slot + timedelta(seconds=60)
    probe = Probe.objects.get()
    assert probe.state == ProbeState.PENDING
    assert probe.scheduled_at == slot
    # Lost once the next slot and the probe's own time limit have passed.
    assert probe.lease_expires_at == probe_lease(slot, timedelta(seconds=60))
    assert len(probe.rows) == 8 == len(job["rows"])
    assert challenge.target_column not in job["columns"]


def test_the_auth_header_is_sent_but_never_stored_in_a_job(
    challenge: Challenge, django_capture_on_commit_callbacks: Any
) -> None:
    endpoint = _register(participants(challenge, 1)[0], auth_header="X-Key: s3cret")
    Endpoint.objects.filter(id=endpoint.id).update(next_probe_at=timezone.now())
    send = RecordingSender()

    with django_capture_on_commit_callbacks(execute=True):
        probes_schedule(send=send)

    assert send.sent[0]["auth_header"] == "X-Key: s3cret"
    assert "s3cret" not in repr(list(Probe.objects.values()))


def test_an_endpoint_long_overdue_is_probed_now_then_back_on_its_phase(
    student: Participant, django_capture_on_commit_callbacks: Any
) -> None:
    endpoint = _register(student)
    now = timezone.now()
    Endpoint.objects.filter(id=endpoint.id).update(next_probe_at=now - timedelta(hours=1))
    send = RecordingSender()

    with django_capture_on_commit_callbacks(execute=True):
        probes_schedule(send=send, now=now)

    assert Probe.objects.get().scheduled_at == now
    endpoint.refresh_from_db()
    assert now < endpoint.next_probe_at <= now + timedelta(seconds=60)
    # Still on the old phase: a whole number of intervals after it.
    assert (endpoint.next_probe_at - (now - timedelta(hours=1))) % timedelta(seconds=60) == (
        timedelta(0)
    )


def test_a_closed_challenge_is_not_probed(
    challenge: Challenge, student: Participant, django_capture_on_commit_callbacks: Any
) -> None:
    endpoint = _register(student)
    Endpoint.objects.filter(id=endpoint.id).update(next_probe_at=timezone.now())
    Challenge.objects.filter(id=challenge.id).update(closes_at=timezone.now())

    with django_capture_on_commit_callbacks(execute=True):
        assert probes_schedule(send=RecordingSender()) == 0


def _scheduled_probe(challenge: Challenge, endpoint: Endpoint, **fields: Any) -> Probe:
    values = {"scheduled_at": timezone.now(), "rows": list(range(8)), **fields}
    interval = timedelta(seconds=challenge.probe_rules.probe_interval_seconds)
    values.setdefault("lease_expires_at", probe_lease(values["scheduled_at"], interval))
    return Probe.objects.create(endpoint=endpoint, **values)


def _truth(challenge: Challenge, rows: list[int]) -> list[Any]:
    labels = hidden_labels(challenge.split.labels_sha256)[challenge.target_column]
    return list(labels.iloc[rows])


def _result(probe: Probe, predictions: list[Any] | None, **fields: Any) -> dict[str, Any]:
    return {
        "probe_id": probe.id,
        "outcome": "ok",
        "http_status": 200,
        "connect_ms": 1.0,
        "total_ms": 50.0,
        "predictions": predictions,
        "data_version": "2",
        "started_at": timezone.now().isoformat(),
        **fields,
    }


def test_a_result_is_scored_against_the_hidden_labels_and_recorded_once(
    challenge: Challenge, student: Participant
) -> None:
    probe = _scheduled_probe(challenge, _register(student))
    truth = _truth(challenge, probe.rows)
    wrong = ["setosa" if label != "setosa" else "virginica" for label in truth]

    assert probe_record_result(result=_result(probe, truth)) == "ok"
    assert probe_record_result(result=_result(probe, wrong)) == "ignored"

    probe.refresh_from_db()
    assert probe.state == ProbeState.DONE
    assert probe.score == 1.0
    assert probe.sla_met
    assert probe.data_version == "2"


def test_predictions_that_are_not_labels_are_an_invalid_answer(
    challenge: Challenge, student: Participant
) -> None:
    probe = _scheduled_probe(challenge, _register(student))

    probe_record_result(result=_result(probe, [0.5] * 8))

    probe.refresh_from_db()
    assert probe.outcome == "invalid"
    assert "is not one of the challenge's labels" in probe.detail
    assert probe.score is None
    assert not probe.sla_met


def test_a_slow_answer_misses_the_sla(challenge: Challenge, student: Participant) -> None:
    probe = _scheduled_probe(challenge, _register(student))

    probe_record_result(result=_result(probe, _truth(challenge, probe.rows), total_ms=250.0))

    probe.refresh_from_db()
    assert probe.outcome == "ok"
    assert not probe.sla_met


def test_probes_no_worker_answered_end_lost(challenge: Challenge, student: Participant) -> None:
    endpoint = _register(student)
    now = timezone.now()
    stale = _scheduled_probe(challenge, endpoint, scheduled_at=now - timedelta(minutes=5))
    recent = _scheduled_probe(challenge, endpoint, scheduled_at=now - timedelta(seconds=5))

    assert probes_reap(now=now) == 1

    stale.refresh_from_db()
    recent.refresh_from_db()
    assert stale.state == ProbeState.LOST
    assert "is a worker serving the probe queue?" in stale.detail
    assert recent.state == ProbeState.PENDING
    # A result arriving after the reaper changes nothing.
    assert probe_record_result(result=_result(stale, [])) == "ignored"


def test_probes_are_written_off_after_the_grace_an_operator_sets(
    challenge: Challenge, student: Participant, settings: Any
) -> None:
    settings.PPIPE_PROBE_GRACE_SECONDS = 15
    endpoint = _register(student)
    now = timezone.now()
    # Unanswered past the next slot and the probe's time limit, then the grace.
    waited = challenge.probe_rules.probe_interval_seconds + settings.PPIPE_PROBE_TIMEOUT_SECONDS
    past = _scheduled_probe(challenge, endpoint, scheduled_at=now - timedelta(seconds=waited + 20))
    within = _scheduled_probe(
        challenge, endpoint, scheduled_at=now - timedelta(seconds=waited + 10)
    )

    assert probes_reap(now=now) == 1

    past.refresh_from_db()
    within.refresh_from_db()
    assert past.state == ProbeState.LOST
    assert within.state == ProbeState.PENDING


def _deliver(challenge: Challenge, sequence: int, at: datetime) -> None:
    release = Release.objects.create(
        challenge=challenge, sequence=sequence, due_at=at, row_start=0, row_stop=10
    )
    Transaction.objects.create(
        release=release,
        destination=DestinationFactory(owner=challenge.owner),
        state=TransactionState.DONE,
        next_attempt_at=at,
        finished_at=at,
        job={},
        remote_path=f"release-{sequence:03d}.csv",
    )


def test_metrics_count_uptime_latency_errors_sla_and_freshness(
    challenge: Challenge, student: Participant
) -> None:
    endpoint = _register(student)
    now = timezone.now()
    Release.objects.filter(challenge=challenge).delete()
    for sequence, hours_ago in ((1, 30), (2, 20), (3, 5)):
        _deliver(challenge, sequence, now - timedelta(hours=hours_ago))
    answers = [
        {"total_ms": 100.0},
        {"total_ms": 150.0},
        {"total_ms": 300.0},  # answered, too slow for the SLA
        {"outcome": "http_error", "http_status": 503, "total_ms": 5.0},
        {"outcome": "timeout", "http_status": None, "total_ms": None},
    ]
    for minutes, changes in enumerate(answers):
        probe = _scheduled_probe(
            challenge, endpoint, scheduled_at=now - timedelta(minutes=10 - minutes)
        )
        probe_record_result(result=_result(probe, _truth(challenge, probe.rows), **changes))
    _scheduled_probe(challenge, endpoint, state=ProbeState.LOST, outcome="lost")

    metrics = endpoint_metrics(endpoint, now=now)

    assert metrics.probes == 6
    assert metrics.uptime == pytest.approx(3 / 6)
    assert metrics.error_rate == pytest.approx(3 / 6)
    assert metrics.sla_compliance == pytest.approx(2 / 6)
    assert metrics.latency_p50_ms == pytest.approx(125.0)
    assert metrics.latency_p99_ms is not None
    assert 290 < metrics.latency_p99_ms <= 300
    # The live score waits for its publication (probing/publication.py).
    assert metrics.score is None
    assert metrics.score_next_publication_at is not None
    assert metrics.score_next_publication_at > now
    assert metrics.freshness.data_version == "2"
    assert metrics.freshness.latest_release == 3
    assert metrics.freshness.releases_behind == 1
    assert metrics.freshness.hours_behind == pytest.approx(5, abs=0.01)


def test_checks_do_not_count_in_the_metrics(challenge: Challenge, student: Participant) -> None:
    endpoint = _register(student)
    probe = _scheduled_probe(challenge, endpoint, kind="check")
    probe_record_result(result=_result(probe, None, outcome="timeout", total_ms=None))

    assert endpoint_metrics(endpoint).probes == 0
