"""The job an rq-scheduler timer enqueues when a schedule is due: "look at trigger T now".

Why it carries only ids: the planned time in the arguments is for logs; what fires, and whether,
is decided by `schedules.process_due()` from the database, so a duplicated, stale or late timer
is harmless (a stale one finds nothing due, a duplicate loses the compare-and-set).
"""

from __future__ import annotations

import logging

from app.extensions import db
from app.services.scheduling import schedules

log = logging.getLogger(__name__)


def fire(trigger_id: str, planned_at: str) -> list[str]:
    """Fire whatever is due for the trigger, then arm its next timer."""
    try:
        outcomes = schedules.process_due(trigger_id)
        log.info("trigger_id=%s timer=%s outcomes=%s", trigger_id, planned_at, outcomes or "none")
        return outcomes
    finally:
        db.session.remove()
