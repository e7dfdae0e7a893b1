"""Name every Redis key Switchboard writes, in one place (as rq's own `keys.py` does).

Why one module: keys built in several places drift apart, and one look here shows everything
the app keeps in Redis, with its owner. The database is the truth; these keys only carry
wake-ups, live events, locks and counters. RQ's own keys (queues, jobs) come from RQ's classes
(see `app.queueing.rq_setup`).
"""

from __future__ import annotations

PREFIX = "switchboard:"

# Locks that let one process at a time do a periodic job (value: the holder's random token).
SWEEPER_LOCK = PREFIX + "sweeper-lock"
SCHEDULE_RECONCILER_LOCK = PREFIX + "schedule-reconciler-lock"


def run_done(run_id: str) -> str:
    """A list that says "run ended" to requests waiting for it (app.queueing.jobs)."""
    return f"{PREFIX}run-done:{run_id}"


def run_events(run_id: str) -> str:
    """A stream of one run's live events (app.queueing.run_events)."""
    return f"{PREFIX}run:{run_id}:events"


def rate_limit(trigger_id: str) -> str:
    """A trigger's rate-limit state (app.services.triggers.rate_limit)."""
    return f"{PREFIX}rate:{trigger_id}"
