"""Every periodic task of the platform, declared here and only here.

`register_periodic_tasks` writes them into django-celery-beat's tables, where
operators see and edit them in the admin. It runs when beat starts and in
`manage.py setup_platform`. A teacher's or operator's edit of an interval, or a
task switched off, survives the next start; what the code declares (task name,
queue, expiry) is brought back in line; entries the code no longer declares are
switched off.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django_celery_beat.models import IntervalSchedule, PeriodicTask

NAME_PREFIX = "ppipe: "


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    task: str
    every_seconds: int
    # A tick that waited longer than this in the broker is dropped: the next tick
    # does the same work, and a backlog of stale ticks would only pile up.
    expires_seconds: int
    queue: str = "control"
    description: str = ""

    @property
    def entry_name(self) -> str:
        return NAME_PREFIX + self.name


def declared_periodic_jobs() -> list[PeriodicJob]:
    heartbeat = settings.PPIPE_HEARTBEAT_SECONDS
    return [
        PeriodicJob(
            name="heartbeat",
            task="ppipe_site.tasks.record_heartbeat",
            every_seconds=heartbeat,
            expires_seconds=max(1, heartbeat - 1),
            description="Proves beat, the broker and the control worker are flowing (/healthz).",
        ),
        PeriodicJob(
            name="release due transactions",
            task="dispatch.tasks.release_due_transactions",
            every_seconds=settings.PPIPE_RELEASE_TICK_SECONDS,
            expires_seconds=settings.PPIPE_RELEASE_TICK_SECONDS,
            description="Claims due data releases and sends them to the dispatch queue.",
        ),
        PeriodicJob(
            name="reap stuck transactions",
            task="dispatch.tasks.reap_stuck_transactions",
            every_seconds=settings.PPIPE_REAPER_SECONDS,
            expires_seconds=settings.PPIPE_REAPER_SECONDS,
            description="Retries or ends releases whose worker never answered.",
        ),
        PeriodicJob(
            name="feed judge queue",
            task="judging.tasks.feed_judge_queue",
            every_seconds=settings.PPIPE_JUDGE_TICK_SECONDS,
            expires_seconds=settings.PPIPE_JUDGE_TICK_SECONDS,
            description="Sends waiting submissions to the judge queue, students in turns.",
        ),
        PeriodicJob(
            name="reap stuck submissions",
            task="judging.tasks.reap_stuck_submissions",
            every_seconds=settings.PPIPE_REAPER_SECONDS,
            expires_seconds=settings.PPIPE_REAPER_SECONDS,
            description="Judges again (a bounded number of times) what a vanished worker held.",
        ),
        PeriodicJob(
            name="reap stuck reproductions",
            task="judging.tasks.reap_stuck_reproductions",
            every_seconds=settings.PPIPE_REAPER_SECONDS,
            expires_seconds=settings.PPIPE_REAPER_SECONDS,
            description="Fails, with the reason, reproductions no judge worker finished in time.",
        ),
        PeriodicJob(
            name="recompute stale contributivity",
            task="judging.tasks.refresh_contributivity",
            every_seconds=settings.PPIPE_CONTRIBUTIVITY_TICK_SECONDS,
            expires_seconds=settings.PPIPE_CONTRIBUTIVITY_TICK_SECONDS,
            description="Sends the contributivity computations overdue (a message lost, "
            "a computation that died).",
        ),
        PeriodicJob(
            name="schedule probes",
            task="probing.tasks.schedule_probes",
            every_seconds=settings.PPIPE_PROBE_TICK_SECONDS,
            expires_seconds=settings.PPIPE_PROBE_TICK_SECONDS,
            description="Sends the endpoint probes due before the next tick, each at its time.",
        ),
        PeriodicJob(
            name="reap lost probes",
            task="probing.tasks.reap_lost_probes",
            every_seconds=settings.PPIPE_REAPER_SECONDS,
            expires_seconds=settings.PPIPE_REAPER_SECONDS,
            description="Ends as lost the probes no probe worker answered within their lease.",
        ),
        PeriodicJob(
            name="pose and close questions",
            task="receipts.tasks.pose_and_close_questions",
            every_seconds=settings.PPIPE_RECEIPT_TICK_SECONDS,
            expires_seconds=settings.PPIPE_RECEIPT_TICK_SECONDS,
            description="Poses proof-of-receipt questions on delivered releases; closes late ones.",
        ),
        PeriodicJob(
            name="watch endpoints and resend mails",
            task="notifications.tasks.watch_endpoints_and_resend",
            every_seconds=settings.PPIPE_NOTIFY_TICK_SECONDS,
            expires_seconds=settings.PPIPE_NOTIFY_TICK_SECONDS,
            description="Tells students whose endpoint is down past the challenge's limit (and "
            "back); sends mails whose retry was lost.",
        ),
        PeriodicJob(
            name="reap stuck mails",
            task="notifications.tasks.reap_stuck_notifications",
            every_seconds=settings.PPIPE_REAPER_SECONDS,
            expires_seconds=settings.PPIPE_REAPER_SECONDS,
            description="Takes back mails whose sender died, to send again or end.",
        ),
        PeriodicJob(
            name="send teacher digests",
            task="notifications.tasks.send_teacher_digests",
            every_seconds=settings.PPIPE_NOTIFY_DIGEST_SECONDS,
            # A digest a day: one that waited an hour is still worth sending.
            expires_seconds=min(3600, settings.PPIPE_NOTIFY_DIGEST_SECONDS),
            description="Mails each teacher the day's failures and stuck work in their challenges.",
        ),
        PeriodicJob(
            name="collect artifacts",
            task="retention.tasks.collect_artifacts",
            every_seconds=settings.PPIPE_RETENTION_TICK_SECONDS,
            # A pass that waited half its interval is dropped: the next one does
            # the same work, and two at once would only share it.
            expires_seconds=max(30, settings.PPIPE_RETENTION_TICK_SECONDS // 2),
            description="Removes the artifacts of runs past their challenge's retention "
            "policy, deletes stored files no row refers to, measures the store.",
        ),
    ]


@transaction.atomic
def register_periodic_tasks() -> list[PeriodicTask]:
    registered = []
    for job in declared_periodic_jobs():
        entry = PeriodicTask.objects.filter(name=job.entry_name).first()
        if entry is None:
            interval, _ = IntervalSchedule.objects.get_or_create(
                every=job.every_seconds, period=IntervalSchedule.SECONDS
            )
            entry = PeriodicTask(name=job.entry_name, interval=interval, enabled=True)
        entry.task = job.task
        entry.queue = job.queue
        entry.expire_seconds = job.expires_seconds
        entry.description = job.description
        entry.save()
        registered.append(entry)
    declared = {job.entry_name for job in declared_periodic_jobs()}
    PeriodicTask.objects.filter(name__startswith=NAME_PREFIX).exclude(name__in=declared).update(
        enabled=False
    )
    return registered
