"""Building a transaction's job from the database (control side only)."""

from __future__ import annotations

from challenges.models import Challenge, Participant
from dispatch.models import Destination, Release
from worker_wing.jobs import ReleaseJobMessage
from worker_wing.release.executor import JOB_KIND, JOB_VERSION
from worker_wing.release.remotes import Remote, join_path


def remote_for(destination: Destination, *, reveal_secrets: bool) -> Remote:
    options = {**destination.options}
    if reveal_secrets:
        options.update(destination.secret_options)
    else:
        options.update({name: "***" for name in destination.secret_options})
    return Remote(type=destination.type, options={k: str(v) for k, v in options.items()})


def release_folder(
    destination: Destination, challenge: Challenge, participant: Participant | None
) -> str:
    """Where a challenge's releases land on a destination: its folder, or with a
    folder per student, this student's own below it."""
    folder = [participant.user.get_username()] if participant is not None else []
    return join_path(destination.path, challenge.slug, *folder)


def release_path(
    destination: Destination, release: Release, participant: Participant | None
) -> str:
    challenge = release.challenge
    name = f"release-{release.sequence:03d}.{challenge.release_plan.release_format}"
    return join_path(release_folder(destination, challenge, participant), name)


def release_job(
    *,
    transaction_id: int,
    release: Release,
    destination: Destination,
    participant: Participant | None = None,
) -> ReleaseJobMessage:
    """The job as stored and shown: secret values are redacted (see with_secrets)."""
    challenge = release.challenge
    return {
        "kind": JOB_KIND,
        "version": JOB_VERSION,
        "transaction_id": transaction_id,
        "attempt": 0,
        "challenge": challenge.slug,
        "sequence": release.sequence,
        "participant": participant.user.get_username() if participant is not None else None,
        "due_at": release.due_at.isoformat(),
        "source": {"sha256": challenge.split.train_sha256, "format": "parquet"},
        "rows": {"start": release.row_start, "stop": release.row_stop},
        "format": challenge.release_plan.release_format,
        "destination": {
            "name": destination.name,
            "remote": remote_for(destination, reveal_secrets=False).as_job(reveal_secrets=True),
            "path": release_path(destination, release, participant),
        },
    }


def with_secrets(
    job: ReleaseJobMessage, destination: Destination, *, attempt: int
) -> ReleaseJobMessage:
    """The stored (redacted) job, with the destination's secrets and this attempt's number."""
    remote = remote_for(destination, reveal_secrets=True).as_job(reveal_secrets=True)
    return {**job, "attempt": attempt, "destination": {**job["destination"], "remote": remote}}


def shown(job: ReleaseJobMessage) -> ReleaseJobMessage:
    """The job as Flower and the logs may show it: the remote's secrets redacted."""
    destination = job.get("destination")
    remote = destination.get("remote") if isinstance(destination, dict) else None
    if destination is None or not isinstance(remote, dict):
        return job
    redacted = Remote.from_job(remote).as_job(reveal_secrets=False)
    return {**job, "destination": {**destination, "remote": redacted}}
