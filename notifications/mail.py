"""The mails' words: plain text, short, each saying how to switch it off.
Pure functions of what they tell; links are absolute (SITE_URL)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from dispatch.models import Transaction
from judging.models import Submission
from probing.models import Endpoint, Probe

SUBJECT_PREFIX = "[ppipe] "


@dataclass(frozen=True)
class Mail:
    subject: str
    body: str


def link(name: str, *args: object) -> str:
    return settings.SITE_URL + reverse(name, args=args)


def _at(moment: datetime) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M %Z}"


def _footer(why: str, switch: str) -> str:
    return (
        f"\n\n-- \n{why}\n"
        f"To stop emails {switch}, switch them off at {link('notification-preferences')}\n"
    )


def _student_footer(challenge_name: str, switch: str) -> str:
    return _footer(f'You take part in "{challenge_name}" on ppipe.', switch)


def _score(value: float | None) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def submission_scored(submission: Submission) -> Mail:
    challenge = submission.challenge
    lines = [
        f"Your submission #{submission.pk} ({submission.filename}) to "
        f'"{challenge.name}" was scored.',
        "",
        f"Public score ({challenge.metric}): {_score(submission.public_score)}",
    ]
    if submission.cv_mean is not None:
        lines.append(
            f"Cross-validation: {_score(submission.cv_mean)} ± {_score(submission.cv_std)}"
        )
    lines += ["", f"Details: {link('submission', submission.pk)}"]
    return Mail(
        f"{SUBJECT_PREFIX}Submission #{submission.pk} scored {_score(submission.public_score)} "
        f"({challenge.name})",
        "\n".join(lines) + _student_footer(challenge.name, "about your submissions' results"),
    )


def submission_failed(submission: Submission) -> Mail:
    challenge = submission.challenge
    body = (
        f"Your submission #{submission.pk} ({submission.filename}) to "
        f'"{challenge.name}" failed.\n\n'
        f"Reason: {submission.reason or 'none was given'}\n\n"
        f"Details: {link('submission', submission.pk)}"
    )
    return Mail(
        f"{SUBJECT_PREFIX}Submission #{submission.pk} failed ({challenge.name})",
        body + _student_footer(challenge.name, "about your submissions' results"),
    )


def release_arrived(delivered: Transaction) -> Mail:
    release = delivered.release
    challenge = release.challenge
    body = (
        f'Release {release.sequence} of "{challenge.name}" has arrived: '
        f"{release.rows} rows, delivered to {delivered.destination.name} at "
        f"{delivered.remote_path}.\n\n"
        f"Challenge: {link('challenge', challenge.slug)}"
    )
    return Mail(
        f'{SUBJECT_PREFIX}Release {release.sequence} of "{challenge.name}" has arrived',
        body + _student_footer(challenge.name, "about releases"),
    )


def endpoint_down(endpoint: Endpoint, first: Probe, last: Probe, failed: int) -> Mail:
    challenge = endpoint.challenge
    minutes = (last.scheduled_at - first.scheduled_at).total_seconds() / 60
    what = last.outcome or last.state
    body = (
        f"Every probe of your endpoint {endpoint.url} has failed since {_at(first.scheduled_at)}: "
        f"{failed} probes over {minutes:.0f} minutes.\n\n"
        f"Last probe: {what}{': ' + last.detail if last.detail else ''}\n\n"
        f"Metrics and a check-now button: {link('endpoint', endpoint.pk)}"
    )
    return Mail(
        f'{SUBJECT_PREFIX}Your endpoint for "{challenge.name}" is down',
        body + _student_footer(challenge.name, "about your endpoint's outages"),
    )


def endpoint_up(endpoint: Endpoint, started_at: datetime, back_at: datetime) -> Mail:
    challenge = endpoint.challenge
    minutes = (back_at - started_at).total_seconds() / 60
    body = (
        f"Your endpoint {endpoint.url} answered a probe again at {_at(back_at)}, "
        f"after {minutes:.0f} minutes down (since {_at(started_at)}).\n\n"
        f"Metrics: {link('endpoint', endpoint.pk)}"
    )
    return Mail(
        f'{SUBJECT_PREFIX}Your endpoint for "{challenge.name}" is back up',
        body + _student_footer(challenge.name, "about your endpoint's outages"),
    )


def teacher_digest(sections: list[tuple[str, list[str]]], total: int) -> Mail:
    lines = ["Failures of the last 24 hours and stuck work in your challenges."]
    for title, items in sections:
        if items:
            lines += ["", f"{title}:", *(f"- {item}" for item in items)]
    lines += ["", f"The admin: {link('admin:index')}"]
    return Mail(
        f"{SUBJECT_PREFIX}Daily digest: {total} problem{'s' if total != 1 else ''} "
        "in your challenges",
        "\n".join(lines) + _footer("You teach challenges on ppipe.", "with the daily digest"),
    )
