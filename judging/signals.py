"""What judging announces, sent after the transaction that caused it commits.

Services send these instead of importing tasks: judging's own tasks (connected in
JudgingConfig.ready) turn them into Celery messages, the apps above judging
(notifications) listen for what concerns them, and tests connect their own
receivers. A receiver handles its own failures (a broker that is down): what
was committed stays committed, and beat's ticks catch up.
"""

from __future__ import annotations

from django.dispatch import Signal

# A submission now waits, or a judge slot was freed: the feeder may have work.
judge_queue_changed = Signal()
# A submission was scored or failed; kwargs: submission_id, attempt.
submission_ended = Signal()
# A reproduction was requested and waits to be sent; kwargs: reproduction_id.
reproduction_requested = Signal()
# A challenge's contributivity should be computed; kwargs: challenge_id, countdown
# (seconds to wait, so a burst of results is blended once), time_limit.
contributivity_due = Signal()
