"""Reconcile schedules with their timers: at the clock's start and every few seconds after.

Why: timers live in Redis and can vanish (Redis restarted), never be set (Redis was down when
the flow was saved, or a save raced the arming) or be late (every scheduler process stopped).
The reconciler fires what is due (applying the missed-run policy to what is overdue) and re-arms
every active schedule whose timer is missing. It is safe to run in several processes at once
(every fire is a compare-and-set plus a unique claim); a short Redis lock only avoids the
duplicated work.
"""

from __future__ import annotations

import logging
from typing import NamedTuple

from app.extensions import db
from app.models import ScheduleState, Trigger, TriggerStatus
from app.models.types import utcnow
from app.queueing.connection import get_redis
from app.services.scheduling import schedules

log = logging.getLogger(__name__)
BATCH = 2000


class ReconcileReport(NamedTuple):
    """What one reconciliation found: fires due without a timer, timers re-armed, states planned."""

    due: int
    armed: int
    planned: int


def reconcile() -> ReconcileReport:
    """Run one reconciliation (the clock runs it under a lock, so normally one process does)."""
    planned = _plan_unplanned()
    now = utcnow()
    due = db.session.execute(db.select(ScheduleState.trigger_id).where(
        ScheduleState.next_fire_at <= now).order_by(ScheduleState.next_fire_at).limit(BATCH)).scalars().all()
    db.session.rollback()
    for trigger_id in due:
        schedules.process_due(trigger_id)
    report = ReconcileReport(due=len(due), armed=_rearm_missing_timers(), planned=planned)
    if any(report):
        log.info("reconcile due=%s rearmed=%s planned=%s", report.due, report.armed, report.planned)
    return report


def _plan_unplanned() -> int:
    """Give a state to active schedule triggers that have none (e.g. saved before an upgrade)."""
    rows = db.session.execute(
        db.select(Trigger).outerjoin(ScheduleState, ScheduleState.trigger_id == Trigger.id)
        .where(Trigger.type == schedules.TYPE, Trigger.status == TriggerStatus.ACTIVE,
               ScheduleState.trigger_id.is_(None)).limit(BATCH)).scalars().all()
    if rows:
        schedules.sync_states(rows)
        db.session.commit()
    return len(rows)


def _rearm_missing_timers() -> int:
    now = utcnow()
    rows = db.session.execute(db.select(ScheduleState.trigger_id, ScheduleState.next_fire_at).where(
        ScheduleState.next_fire_at > now)).all()
    db.session.rollback()
    if not rows:
        return 0
    timers = schedules.scheduler()
    pipe = get_redis().pipeline(transaction=False)
    for trigger_id, planned_at in rows:
        pipe.zscore(timers.scheduled_jobs_key, schedules.timer_id(trigger_id, planned_at))
    missing = {trigger_id: planned_at for (trigger_id, planned_at), score in zip(rows, pipe.execute())
               if score is None}
    return schedules.arm_timers(missing) if missing else 0
