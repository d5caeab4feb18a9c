"""The mail backend of `make run` (no EMAIL_HOST): one log line per mail.

Django's console backend writes each whole message to stdout; in a Celery worker
stdout is redirected to a logger, so every line of every mail became its own
`WARNING celery.redirected` record. One INFO line naming the recipients and the
subject is what an operator watching the terminal needs; the body stays in the
database (the notification's row), where the admin shows it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMessage

logger = logging.getLogger("ppipe.mail")


class OneLineEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        for message in email_messages:
            logger.info(
                "mail to %s: %s", ", ".join(message.recipients()) or "nobody", message.subject
            )
        return len(email_messages)
