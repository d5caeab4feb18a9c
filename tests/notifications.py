"""Notifications for tests: judged submissions, a mail server that refuses
recipients, and `eager_tasks`, a named stand-in for the control worker.

`eager_tasks` runs the real task code in this process instead of on a worker, so
the tests of what each mail says, of idempotence and of retries can read
Django's locmem outbox. The real path (commit, Redis, a control worker process,
the console backend) is tested by tests/test_notify_through_a_control_worker.py."""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.core import mail
from django.core.mail import EmailMessage

from foundation.celery import app
from judging.models import Submission
from judging.services import submission_mark_started, submissions_feed
from tests.submissions import RecordingSender, participants, published_challenge, upload


@contextmanager
def eager_tasks() -> Iterator[None]:
    """Stand-in for the control worker: `apply_async` runs the task here and now,
    exceptions included."""
    before = (app.conf.task_always_eager, app.conf.task_eager_propagates)
    app.conf.task_always_eager, app.conf.task_eager_propagates = True, True
    try:
        yield
    finally:
        app.conf.task_always_eager, app.conf.task_eager_propagates = before


def mails_to(address: str) -> list[EmailMessage]:
    return [message for message in mail.outbox if address in message.to]


def running_submission(**challenge_fields: Any) -> Submission:
    submission = upload(participants(published_challenge(**challenge_fields), 1)[0])
    submissions_feed(send=RecordingSender())
    assert submission_mark_started(submission_id=submission.pk, attempt=1, worker="w1")
    submission.refresh_from_db()
    return submission


def scored_result(submission: Submission) -> dict[str, Any]:
    split = submission.challenge.split
    return {
        "submission_id": submission.pk,
        "attempt": submission.attempts,
        "ok": True,
        "test_predictions": ["setosa"] * (split.public_test_rows + split.private_test_rows),
        "folds": [],
        "cv_mean": 0.9,
        "cv_std": 0.01,
    }


def failed_result(submission: Submission, reason: str) -> dict[str, Any]:
    return {
        "submission_id": submission.pk,
        "attempt": submission.attempts,
        "ok": False,
        "reason": reason,
    }


class _RefusingSMTP(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib to reach RCPT TO, which it refuses for good (550)."""

    def handle(self) -> None:
        self.wfile.write(b"220 refusing.test ESMTP\r\n")
        for line in self.rfile:
            verb = line.decode(errors="replace").strip().split(" ")[0].upper()
            if verb in ("EHLO", "HELO"):
                self.wfile.write(b"250 refusing.test\r\n")
            elif verb == "RCPT":
                self.wfile.write(b"550 5.1.1 no such mailbox here\r\n")
            elif verb == "QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


@contextmanager
def refusing_smtp_server() -> Iterator[int]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _RefusingSMTP)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1]
    finally:
        server.shutdown()
        server.server_close()


def closed_port() -> int:
    """A loopback port nothing listens on (connecting is refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
