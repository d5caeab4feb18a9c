"""What challenges tell the apps built on them, inside the transaction that made the
change: a receiver that raises undoes it. Sent with `send`, never `send_robust`."""

from __future__ import annotations

from django.dispatch import Signal

# challenge=: its split is saved, the challenge marked published. A receiver that
# cannot prepare its part raises challenges.services.PublishError.
challenge_published = Signal()

# participant=: a student newly taking part (from the roster, a code or the admin).
participant_enrolled = Signal()
