"""Endpoint outages: a run of consecutive failed scheduled probes spanning at
least the challenge's limit is an outage; its student is told once, and (if the
challenge says so) once more when a probe succeeds again.

A probe failed when it ended without valid predictions (`done` with another
outcome than ok) or no worker answered it (`lost`); checks never count. Only
endpoints whose newest recorded probe failed are looked at, so a tick costs one
query when every endpoint is up.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone

from notifications import mail
from notifications.models import EndpointOutage, NotificationKind
from notifications.selectors import challenge_settings_of
from notifications.services import notification_record
from probing.models import Endpoint, Probe, ProbeKind, ProbeState

OK = "ok"
RECORDED = Q(kind=ProbeKind.SCHEDULED, state__in=(ProbeState.DONE, ProbeState.LOST))
SUCCEEDED = Q(state=ProbeState.DONE, outcome=OK)


def _recorded(endpoint_id: int) -> QuerySet[Probe]:
    return Probe.objects.filter(RECORDED, endpoint_id=endpoint_id)


def _newest_failed(now: datetime) -> QuerySet[Endpoint]:
    newest = Probe.objects.filter(RECORDED, endpoint_id=OuterRef("pk")).order_by(
        "-scheduled_at", "-id"
    )
    newest_ok = Probe.objects.filter(SUCCEEDED, id=OuterRef("newest_id"))
    return (
        Endpoint.objects.filter(
            active=True,
            challenge__published_at__isnull=False,
            challenge__opens_at__lte=now,
            challenge__closes_at__gt=now,
        )
        .annotate(newest_id=Subquery(newest.values("id")[:1]))
        .filter(newest_id__isnull=False)
        .exclude(Exists(newest_ok))
        .select_related("challenge", "participant__user")
    )


@dataclass(frozen=True)
class FailedRun:
    first: Probe
    last: Probe
    count: int


def _failed_run(endpoint: Endpoint) -> FailedRun | None:
    """The recorded probes since the newest success (or ever)."""
    probes = _recorded(endpoint.pk)
    last_ok = probes.filter(SUCCEEDED).order_by("-scheduled_at", "-id").first()
    if last_ok is not None:
        probes = probes.filter(scheduled_at__gt=last_ok.scheduled_at)
    first = probes.order_by("scheduled_at", "id").first()
    last = probes.order_by("-scheduled_at", "-id").first()
    if first is None or last is None:
        return None
    return FailedRun(first, last, probes.count())


def _alert(endpoint: Endpoint, minutes: int, now: datetime) -> bool:
    run = _failed_run(endpoint)
    if run is None or run.last.scheduled_at - run.first.scheduled_at < timedelta(minutes=minutes):
        return False
    first = run.first
    with transaction.atomic():
        _, created = EndpointOutage.objects.get_or_create(
            endpoint=endpoint,
            first_failed_probe_id=first.pk,
            defaults={"started_at": first.scheduled_at, "alerted_at": now},
        )
        if not created:
            return False
        user = endpoint.participant.user
        notification_record(
            key=f"endpoint-down:{endpoint.pk}:{first.pk}",
            kind=NotificationKind.ENDPOINT_DOWN,
            user_id=user.pk,
            email=user.email,
            challenge_id=endpoint.challenge_id,
            compose=lambda: mail.endpoint_down(endpoint, first, run.last, run.count),
        )
    return True


def _recover(outage: EndpointOutage) -> bool:
    back = (
        _recorded(outage.endpoint_id)
        .filter(SUCCEEDED, scheduled_at__gt=outage.started_at)
        .order_by("scheduled_at", "id")
        .first()
    )
    if back is None:
        return False
    with transaction.atomic():
        ended = EndpointOutage.objects.filter(id=outage.pk, ended_at__isnull=True).update(
            ended_at=back.scheduled_at
        )
        endpoint = outage.endpoint
        if ended and challenge_settings_of(endpoint.challenge_id).endpoint_back_notice:
            user = endpoint.participant.user
            notification_record(
                key=f"endpoint-up:{endpoint.pk}:{outage.first_failed_probe_id}",
                kind=NotificationKind.ENDPOINT_UP,
                user_id=user.pk,
                email=user.email,
                challenge_id=endpoint.challenge_id,
                compose=lambda: mail.endpoint_up(endpoint, outage.started_at, back.scheduled_at),
            )
    return bool(ended)


def endpoint_outages_detect(*, now: datetime | None = None) -> tuple[int, int]:
    """Alert on outages past their challenge's limit and close the ones that
    ended; returns (alerts, recoveries)."""
    now = now or timezone.now()
    open_outages = EndpointOutage.objects.filter(ended_at__isnull=True).select_related(
        "endpoint__challenge", "endpoint__participant__user"
    )
    recovered = sum(_recover(outage) for outage in open_outages)
    limits: dict[int, int] = {}
    alerted = 0
    for endpoint in _newest_failed(now):
        if endpoint.challenge_id not in limits:
            limits[endpoint.challenge_id] = challenge_settings_of(
                endpoint.challenge_id
            ).endpoint_down_minutes
        minutes = limits[endpoint.challenge_id]
        if minutes and _alert(endpoint, minutes, now):
            alerted += 1
    return alerted, recovered
