"""Teachers' daily digest: what failed in the last 24 hours in their challenges,
and what is stuck (the operations page's problem jobs, scoped to them), with the
endpoints that failed probes. Sent only when there is something to say, at most
once a day per teacher (the key holds the day)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Count
from django.utils import timezone

from challenges.models import Challenge
from notifications import mail
from notifications.models import NotificationKind
from notifications.services import notification_record
from operations.jobs import FAILURE_WINDOW, ProblemJob, problem_jobs
from probing.models import Probe, ProbeKind, ProbeState

SECTIONS = (
    ("judge", "Submissions"),
    ("dispatch", "Releases"),
    ("probe", "Probes no worker answered"),
)
LIMIT = 20


def _item(job: ProblemJob) -> str:
    word = "since" if job.kind == "stuck" else "at"
    when = f" {word} {timezone.localtime(job.since):%Y-%m-%d %H:%M}" if job.since else ""
    reason = job.reason.strip().splitlines()[0][:160] if job.reason.strip() else ""
    return (
        f"{job.kind}: {job.label}, {job.state}{when}"
        + (f": {reason}" if reason else "")
        + f" {settings.SITE_URL}{job.admin_url}"
    )


def _failing_endpoints(challenge_ids: list[int], now: datetime) -> list[str]:
    rows = (
        Probe.objects.filter(
            endpoint__challenge_id__in=challenge_ids,
            kind=ProbeKind.SCHEDULED,
            state=ProbeState.DONE,
            scheduled_at__gte=now - FAILURE_WINDOW,
        )
        .exclude(outcome="ok")
        .order_by()
        .values("endpoint__participant__user__username", "endpoint__challenge__slug")
        .annotate(failed=Count("id"))
        .order_by("-failed")[:LIMIT]
    )
    return [
        f"{row['endpoint__participant__user__username']}'s endpoint "
        f"({row['endpoint__challenge__slug']}): {row['failed']} failed probes"
        for row in rows
    ]


def teacher_digest_sections(challenge_ids: list[int], now: datetime) -> list[tuple[str, list[str]]]:
    problems = problem_jobs(limit=LIMIT, now=now, challenge_ids=challenge_ids)
    sections = [(title, [_item(job) for job in problems[queue]]) for queue, title in SECTIONS]
    sections.append(("Endpoints failing probes", _failing_endpoints(challenge_ids, now)))
    return sections


def _teachers(now: datetime) -> dict[int, list[int]]:
    """Each teacher's challenges that were open or published in the last day."""
    recent = Challenge.objects.filter(
        published_at__isnull=False, closes_at__gt=now - timedelta(days=1)
    ).values_list("owner_id", "id")
    found: dict[int, list[int]] = defaultdict(list)
    for owner_id, challenge_id in recent:
        found[owner_id].append(challenge_id)
    return found


def teacher_digests_send(*, now: datetime | None = None) -> int:
    """Record (and send after the commit) today's digest of each teacher who has
    something in it; how many were recorded."""
    now = now or timezone.now()
    day = timezone.localdate(now).isoformat()
    owners = _teachers(now)
    teachers = get_user_model().objects.in_bulk(list(owners))
    recorded = 0
    for teacher_id, challenge_ids in owners.items():
        sections = teacher_digest_sections(challenge_ids, now)
        total = sum(len(items) for _, items in sections)
        if not total:
            continue
        teacher = teachers[teacher_id]
        with transaction.atomic():
            recorded += (
                notification_record(
                    key=f"teacher-digest:{teacher_id}:{day}",
                    kind=NotificationKind.TEACHER_DIGEST,
                    user_id=teacher_id,
                    email=getattr(teacher, "email", ""),
                    challenge_id=None,
                    compose=partial(mail.teacher_digest, sections, total),
                )
                is not None
            )
    return recorded
