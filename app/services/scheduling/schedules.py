"""Fire scheduled triggers exactly once: the database decides, rq-scheduler only wakes us up.

Why this shape (DESIGN.md, decision 6): rq-scheduler's timers can be lost (Redis restart),
duplicated (two scheduler processes, enqueue and reschedule are not atomic) or late (its lock
expiring mid-loop, busy workers). So a timer carries nothing but "look at trigger T now", and
every fire goes through `process_due()`, which
1. moves `schedule_states.next_fire_at` forward with a compare-and-set (only one caller wins),
2. inserts a claim with UNIQUE (trigger, planned time) in the same transaction, and
3. commits the run row with both, through `run_start.start`, before its job is enqueued.
A fire that two timers, two schedulers or the reconciler all see starts one run; a fire no timer
saw is found by the reconciler (`app.clock.schedule_reconciler`) and fired late or treated as missed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable

from redis.exceptions import RedisError
from sqlalchemy import event, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

import flows
from flows import schedule as fire_times
from flows.nodes import ScheduleTrigger
from app.queueing import rq_setup
from app.config import settings
from app.extensions import db
from app.models import Run, RunStatus, ScheduleClaim, ScheduleState, Trigger, TriggerStatus, Workspace
from app.models.types import new_id, utcnow
from app.services.runs.run_start import start
from app.services.runs.records import QueueUnavailable
from app.services.runs.start_request import NotPublished, for_schedule
from app.services.versions.archived import is_archived

log = logging.getLogger(__name__)

TYPE = ScheduleTrigger.type  # the engine node; its app side is app.trigger_types.schedule
FIRE_FUNCTION = "app.worker.schedule_fire.fire"
MISSED_COUNT_LIMIT = 10000  # fires counted per catch-up; beyond it the count says "at least"
MAX_FIRES_PER_CALL = 20
_ARM_KEY = "switchboard_schedules_to_arm"


# ---- reading a trigger's schedule -------------------------------------------------------

def workspace_timezone(workspace_id: str) -> str:
    workspace = db.session.get(Workspace, workspace_id)
    return workspace.timezone if workspace and workspace.timezone else "UTC"


def schedule_of(trigger: Trigger, default_timezone: str | None = None) -> fire_times.Schedule:
    """Parse the trigger's saved config (raises ScheduleError, e.g. after a workspace time zone vanished)."""
    config = flows.registry.get(TYPE).effective_config(trigger.config)
    return fire_times.parse(config, default_timezone or workspace_timezone(trigger.workspace_id))


# ---- arming (publishing, pausing, deleting) -----------------------------------------------

def sync_states(triggers: list[Trigger], now: datetime | None = None) -> None:
    """Recompute each schedule trigger's next fire after a save; timers are armed after the commit.

    A fire that is still pending and still part of the (possibly changed) schedule is kept, so
    saving an unrelated change never drops a fire that is due; anything else starts from now.
    """
    now = now or utcnow()
    default_tz: dict[str, str] = {}
    for trigger in triggers:
        state = db.session.get(ScheduleState, trigger.id)
        if trigger.type != TYPE and state is None:
            continue
        if state is None:
            state = ScheduleState(trigger_id=trigger.id)
            db.session.add(state)
        state.updated_at = now
        if trigger.type != TYPE or trigger.status != TriggerStatus.ACTIVE or is_archived(trigger.flow):
            state.next_fire_at = None
            continue
        tz = default_tz.setdefault(trigger.workspace_id, workspace_timezone(trigger.workspace_id))
        try:
            schedule = schedule_of(trigger, tz)
        except fire_times.ScheduleError as exc:  # validated at save; only a vanished zone gets here
            log.warning("trigger_id=%s schedule unusable: %s", trigger.id, exc)
            state.next_fire_at = None
            continue
        pending = state.next_fire_at
        keep = pending is not None and (state.last_planned_at is None or pending > state.last_planned_at) \
            and schedule.next_after(pending - timedelta(microseconds=1)) == pending
        if not keep:
            after = max(now, state.last_planned_at) if state.last_planned_at else now
            state.next_fire_at = schedule.next_after(after)
        if state.next_fire_at is not None:
            db.session.info.setdefault(_ARM_KEY, {})[trigger.id] = state.next_fire_at


def states_of(triggers: list[Trigger]) -> list[ScheduleState]:
    """The schedule states of these triggers (those that have one)."""
    found = [db.session.get(ScheduleState, trigger.id) for trigger in triggers]
    return [state for state in found if state is not None]


def resync_workspace(workspace_id: str) -> None:
    """Re-plan the workspace's schedules that follow its time zone (after the zone changed)."""
    triggers = db.session.execute(db.select(Trigger).where(
        Trigger.workspace_id == workspace_id, Trigger.type == TYPE, Trigger.status == TriggerStatus.ACTIVE)).scalars()
    follow = [t for t in triggers if not (t.config or {}).get("timezone")]
    for trigger in follow:
        state = db.session.get(ScheduleState, trigger.id)
        if state is not None:
            state.next_fire_at = None  # start over from now in the new zone
    sync_states(follow)


@event.listens_for(Session, "after_commit")
def _arm_after_commit(session: Session) -> None:
    pending = session.info.pop(_ARM_KEY, None)
    if pending:
        try:
            arm_timers(pending)
        except Exception:  # noqa: BLE001  (the commit stands; the reconciler arms what is missing)
            log.exception("arming %s schedule timer(s) after commit failed", len(pending))


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(_ARM_KEY, None)


def timer_id(trigger_id: str, planned_at: datetime) -> str:
    """Name a timer by what it fires, so arming twice (two schedulers, a retry) is one timer."""
    return f"sched-{trigger_id}-{int(planned_at.timestamp())}"


def scheduler():
    return rq_setup.scheduler(rq_setup.schedule_queue())


def arm_timers(pending: dict[str, datetime]) -> int:
    """Ask rq-scheduler to wake us at each planned time; a failure is repaired by the reconciler."""
    try:
        timers = scheduler()
        for trigger_id, planned_at in pending.items():
            timers.enqueue_at(planned_at, FIRE_FUNCTION, trigger_id, planned_at.isoformat(),
                              job_id=timer_id(trigger_id, planned_at), queue_name=rq_setup.schedule_queue_name(),
                              timeout=120, job_result_ttl=30, job_description=f"fire schedule {trigger_id}")
        return len(pending)
    except RedisError as exc:
        log.warning("could not arm %s schedule timer(s), the reconciler will: %s", len(pending), exc)
        return 0


# ---- firing -----------------------------------------------------------------------------------

def process_due(trigger_id: str, now: datetime | None = None,
                clock: Callable[[], datetime] = utcnow) -> list[str]:
    """Fire (or account for) every planned fire of the trigger that is due; return the outcomes.

    The time is read on every iteration (`clock`; tests pass `now`, a fixed time, or a clock of
    their own), but a fire is judged late or on time as of when this call first looked (or its
    planned time, if it fell due during the call): a slow write of one decision must not turn
    the next fire, within the grace when seen, into a second "missed" decision for one outage.
    """
    outcomes: list[str] = []
    grace = timedelta(seconds=settings().schedule_misfire_grace_seconds)
    read = (lambda: now) if now is not None else clock
    first_look = read()
    for _ in range(MAX_FIRES_PER_CALL):
        moment = read()
        row = db.session.execute(db.select(ScheduleState, Trigger).join(Trigger, Trigger.id == ScheduleState.trigger_id)
                                 .where(ScheduleState.trigger_id == trigger_id)).first()
        if row is None:
            break
        state, trigger = row
        planned = state.next_fire_at
        if planned is None or planned > moment:
            break
        outcome = _fire_one(state, trigger, planned, moment, max(first_look, planned) - grace)
        if outcome is not None:
            outcomes.append(outcome)
    db.session.rollback()  # nothing left open; the next read sees other processes' commits
    _arm_next(trigger_id, read())
    return outcomes


@dataclass
class _Fire:
    """One step of a schedule: `due` (the state's next fire) is being replaced by `following`."""

    trigger: Trigger
    state: ScheduleState
    due: datetime
    following: datetime | None
    moment: datetime


def _fire_one(state: ScheduleState, trigger: Trigger, planned: datetime, moment: datetime,
              cutoff: datetime) -> str | None:
    """Fire or account for the fire planned at `planned`; one planned before `cutoff` is late (missed)."""
    # Paused, re-typed, or its flow archived (a timer armed before the archive): disarm, start nothing.
    if trigger.status != TriggerStatus.ACTIVE or trigger.type != TYPE or is_archived(trigger.flow):
        if _advance(trigger.id, planned, None, moment):
            db.session.commit()
        return None
    config = flows.registry.get(TYPE).effective_config(trigger.config)
    try:
        schedule = schedule_of(trigger)
    except fire_times.ScheduleError as exc:  # e.g. the time zone vanished: record why, stop firing
        return _start(_Fire(trigger, state, planned, None, moment), config, planned, "started", {},
                      problem=f"The schedule cannot be computed: {exc}")
    if planned >= cutoff:  # on time, or late by less than the grace
        return _start(_Fire(trigger, state, planned, schedule.next_after(planned), moment), config, planned,
                      "started", {})
    missed, more = schedule.fires_between(planned, cutoff, MISSED_COUNT_LIMIT)
    fire = _Fire(trigger, state, planned, schedule.next_after(cutoff), moment)
    if not missed:
        return None
    window_start = moment - timedelta(seconds=config["missed_window_seconds"])
    within = [f for f in missed if f >= window_start]
    log.warning("trigger_id=%s missed=%s%s policy=%s", trigger.id, len(missed), "+" if more else "",
                config["missed_policy"])
    if config["missed_policy"] == "run_once" and within:
        return _start(fire, config, within[-1], "catch_up",
                      {"missed_count": len(within), "missed_first": within[0].isoformat()})
    if not _advance(trigger.id, planned, fire.following, moment):
        return None  # another process handled it
    return _settle(fire, missed[-1], "missed", missed_count=len(missed),
                   detail=f"{len(missed)}{'+' if more else ''} fire(s) missed from {missed[0].isoformat()}; "
                          f"policy {config['missed_policy']}")


def _advance(trigger_id: str, planned: datetime, following: datetime | None, moment: datetime) -> bool:
    """Compare-and-set next_fire_at from `planned` to `following`; False when someone else moved it."""
    result = db.session.execute(
        update(ScheduleState).where(ScheduleState.trigger_id == trigger_id, ScheduleState.next_fire_at == planned)
        .values(next_fire_at=following, updated_at=moment).execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.session.rollback()
        return False
    return True


def _claim(fire: _Fire, planned: datetime, outcome: str, run_id: str | None = None, missed_count: int = 0,
           detail: str | None = None) -> bool:
    """Claim `planned` for this outcome; False (and only move past the fire) when it was claimed before.

    A claim can exist while next_fire_at still points at it when a concurrent save wrote back an
    older next_fire_at (a lost update on PostgreSQL): the fire was handled, so just move on.
    """
    db.session.add(ScheduleClaim(trigger_id=fire.trigger.id, planned_at=planned, outcome=outcome, run_id=run_id,
                                 missed_count=missed_count, detail=detail))
    try:
        db.session.flush()
    except IntegrityError:  # this planned fire was already claimed: never a second run
        db.session.rollback()
        if _advance(fire.trigger.id, fire.due, fire.following, fire.moment):
            db.session.commit()
        return False
    return True


def _remember(fire: _Fire, planned: datetime, outcome: str, run_id: str | None) -> None:
    db.session.execute(update(ScheduleState).where(ScheduleState.trigger_id == fire.trigger.id).values(
        last_planned_at=planned, last_fired_at=fire.moment, last_outcome=outcome,
        last_run_id=run_id if run_id else ScheduleState.last_run_id).execution_options(synchronize_session=False))


def _settle(fire: _Fire, planned: datetime, outcome: str, missed_count: int = 0, detail: str | None = None
            ) -> str | None:
    """Account for a fire that starts no run (missed, skipped), after `_advance`; commit."""
    if not _claim(fire, planned, outcome, missed_count=missed_count, detail=detail):
        return None
    _remember(fire, planned, outcome, None)
    db.session.commit()
    return outcome


def _start(fire: _Fire, config: dict, planned: datetime, outcome: str, extra: dict,
           problem: str | None = None) -> str | None:
    """Start the fire's run through `run_start.start`, or record a failed run saying why it cannot run.

    The schedule moves past the fire and claims it in the run's own transaction (`_take`), so a
    fire is exactly one run, or (another process took it) nothing.
    """
    trigger, previous = fire.trigger, fire.state.last_run_id
    if problem is None and config["overlap_policy"] == "skip" and previous and db.session.execute(
            db.select(Run.id).where(Run.id == previous, Run.status.in_(
                [RunStatus.QUEUED, RunStatus.RUNNING, RunStatus.WAITING]))).first():
        if not _advance(trigger.id, fire.due, fire.following, fire.moment):
            return None
        return _settle(fire, planned, "skipped_overlap", detail=f"run {previous} was still going")
    payload = {"planned_at": planned.isoformat(), "fired_at": fire.moment.isoformat(), **extra}
    try:
        request = for_schedule(trigger.flow, trigger, config.get("inputs") or {}, payload=payload,
                               planned_at=planned, problem=problem)
    except NotPublished:  # cannot happen for a saved trigger, but never loop on it
        if not _advance(trigger.id, fire.due, fire.following, fire.moment):
            return None
        return _settle(fire, planned, "failed", detail="The flow has no published version.")
    if request.refusal is not None:
        outcome = "failed"
    request.run_id = new_id()
    request.prepare = lambda run_id: _take(fire, planned, outcome, run_id, extra.get("missed_count", 0),
                                           request.refusal)
    try:
        started = start(request)  # commits the claim, the state and the run together
    except QueueUnavailable:
        started = True  # the run is committed and marked canceled with the reason; the fire is accounted for
    if not started:
        return None  # another process fired it
    log.info("trigger_id=%s planned_at=%s run_id=%s state=%s", trigger.id, planned.isoformat(), request.run_id,
             outcome)
    return outcome


def _take(fire: _Fire, planned: datetime, outcome: str, run_id: str, missed_count: int,
          detail: str | None) -> bool:
    """Move the schedule past the fire and claim it for `run_id`; False when another process did."""
    if not _advance(fire.trigger.id, fire.due, fire.following, fire.moment):
        return False
    if not _claim(fire, planned, outcome, run_id=run_id, missed_count=missed_count, detail=detail):
        return False
    _remember(fire, planned, outcome, run_id)
    return True


def _arm_next(trigger_id: str, now: datetime | None) -> None:
    state = db.session.get(ScheduleState, trigger_id)
    if state is not None and state.next_fire_at is not None and state.next_fire_at > (now or utcnow()):
        arm_timers({trigger_id: state.next_fire_at})
    db.session.rollback()
