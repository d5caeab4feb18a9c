"""What dispatch announces, sent after the transaction that caused it commits
(see judging/signals.py for why services send signals instead of tasks)."""

from __future__ import annotations

from django.dispatch import Signal

# Release transactions reached their destinations, recorded in one commit;
# kwargs: transaction_ids.
release_delivered = Signal()
