"""What notifications announce, sent after the transaction that caused it commits
(see judging/signals.py for why services send signals instead of tasks)."""

from __future__ import annotations

from django.dispatch import Signal

# A mail was recorded and waits to be sent; kwargs: notification_id.
notification_recorded = Signal()
