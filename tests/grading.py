"""A small class with everything grades read: scored submissions (with picks and a
tie), a failed one, an endpoint with probes, proof-of-receipt questions, and an
enrolled student who did nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from challenges.models import Challenge, Participant
from dispatch.models import Release
from judging.models import Submission, SubmissionState
from probing.models import Endpoint, Probe
from receipts.models import Question, QuestionKind, Verdict
from tests.factories import ParticipantFactory, StudentFactory, SubmissionFactory


def person(challenge: Challenge, name: str) -> Participant:
    return ParticipantFactory(challenge=challenge, user=StudentFactory(username=name))


def scored(
    participant: Participant,
    public: float,
    private: float,
    cpu: float = 1.0,
    memory: float = 100.0,
    **fields: Any,
) -> Submission:
    return SubmissionFactory(
        participant=participant,
        state=SubmissionState.SCORED,
        public_score=public,
        private_score=private,
        cv_mean=public,
        cv_std=0.01,
        cpu_seconds=cpu,
        peak_memory_mb=memory,
        fit_seconds=cpu / 2,
        **fields,
    )


def endpoint_with_probes(participant: Participant, up: int, down: int) -> Endpoint:
    endpoint = Endpoint.objects.create(
        challenge=participant.challenge,
        participant=participant,
        url="http://x.org",
        protocol="json",
    )
    now = timezone.now()
    Probe.objects.bulk_create(
        Probe(
            endpoint=endpoint,
            scheduled_at=now - timedelta(minutes=n + 1),
            state="done",
            outcome="ok" if n < up else "refused",
            http_status=200 if n < up else None,
            total_ms=10.0 if n < up else None,
        )
        for n in range(up + down)
    )
    return endpoint


def release_of(challenge: Challenge) -> Release:
    return challenge.releases.first() or Release.objects.create(
        challenge=challenge, sequence=1, due_at=timezone.now(), row_start=0, row_stop=10
    )


def question(participant: Participant, verdict: str, **fields: Any) -> Question:
    now = timezone.now()
    values = {
        "participant": participant,
        "release": release_of(participant.challenge),
        "kind": QuestionKind.ROW_COUNT,
        "prompt": "How many rows?",
        "expected": 10,
        "posted_at": now - timedelta(hours=2),
        "deadline": now + timedelta(hours=1),
        "verdict": verdict,
        **fields,
    }
    if verdict in (Verdict.CORRECT, Verdict.PARTIAL, Verdict.INCORRECT):
        values.setdefault("answer", "10")
        values.setdefault("answered_at", now - timedelta(hours=1))
    return Question.objects.create(**values)


def a_class(challenge: Challenge) -> dict[str, Participant]:
    """ada (picked), grace (tied with linus), linus (an endpoint, questions), ken (only
    a failed submission, an endpoint), idle (enrolled, nothing else)."""
    names = ("ada", "grace", "linus", "ken", "idle")
    people = {name: person(challenge, name) for name in names}
    scored(people["ada"], 0.90, 0.80, cpu=4.0, memory=300.0, selected=True)
    scored(people["ada"], 0.95, 0.70, cpu=1.0)
    scored(people["grace"], 0.85, 0.85, cpu=2.0, memory=200.0)
    scored(people["linus"], 0.85, 0.60, cpu=8.0, memory=100.0)
    SubmissionFactory(participant=people["ken"], state=SubmissionState.FAILED, reason="boom")
    endpoint_with_probes(people["linus"], up=3, down=1)
    endpoint_with_probes(people["ken"], up=1, down=1)
    question(people["linus"], Verdict.CORRECT)
    question(people["linus"], Verdict.MISSED, deadline=timezone.now() - timedelta(hours=1))
    return people
