"""What dispatch announces, sent after the transaction that caused it commits
(see judging/signals.py for why services send signals instead of tasks)."""

from __future__ import annotations

from django.dispatch import Signal

# A release transaction reached its destination; kwargs: transaction_id.
release_delivered = Signal()
